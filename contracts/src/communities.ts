/** The wall's 社群 board as `GET /api/v1/communities/board` returns it. */
export const BOARD_LISTS = ['active', 'growing', 'losing', 'silent'] as const;
export type BoardList = (typeof BOARD_LISTS)[number];

export interface BoardEntry {
  community: string;
  name: string | null;
  /**
   * The list's measure: active members today (messages today when `activeBy` says so), net
   * joins today, net today (negative), messages in the week before the silence.
   */
  value: number;
  /** That measure per local day, oldest first, 14 days ending today. */
  spark: number[];
}

export interface CommunityBoard {
  generatedAt: number;
  silentDays: number;
  /** Groups with any event in the last 30 days. */
  groups: number;
  /**
   * What "most active" ranks by: the day's distinct active members per group (members who
   * sent a message, interacted, joined …), or messages when no group has member ids today.
   */
  activeBy: 'members' | 'messages';
  lists: Record<BoardList, BoardEntry[]>;
}

/**
 * Distinct active members per group (`GET /api/v1/communities/active`): members who sent a
 * message, interacted, joined, … in the group (the `active` member set), from per-group
 * sketches (HyperLogLog estimates: exact in practice for a few hundred members, within ~1 %
 * beyond). Distinct counts do not add up: a range's value is the merge, not a sum of days.
 */
export interface ActiveMembersTop {
  range: string;
  from: number;
  to: number;
  /** Groups with at least one active member in the range. */
  groups: number;
  rows: { community: string; name: string | null; members: number }[];
}

/** One group's active members per hour or local day (`…/active?community=…&granularity=hour|day`). */
export interface ActiveMembersSeries {
  community: string;
  name: string | null;
  granularity: 'hour' | 'day';
  points: { ts: number; members: number }[];
}
