/** The wall's 社群 board as `GET /api/v1/communities/board` returns it. */
export const BOARD_LISTS = ['active', 'growing', 'losing', 'silent'] as const;
export type BoardList = (typeof BOARD_LISTS)[number];

export interface BoardEntry {
  community: string;
  name: string | null;
  /** The list's measure: messages today, net joins today, net today (negative), messages in the week before the silence. */
  value: number;
  /** That measure per local day, oldest first, 14 days ending today. */
  spark: number[];
}

export interface CommunityBoard {
  generatedAt: number;
  silentDays: number;
  /** Groups with any event in the last 30 days. */
  groups: number;
  lists: Record<BoardList, BoardEntry[]>;
}
