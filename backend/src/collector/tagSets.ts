/**
 * One shared, frozen `Tags` object per distinct tag set on the ingest path, so what each
 * event needs from its tags is worked out once per tag set rather than once per event: the
 * collector's row key (`tagKeyOf`), the per-group rollup's tags (`groupTagsOf`) and the
 * journal's encoding of the tags. (Issue 18's profile: building `channel\0community\0campaign`
 * three times per event and a rollup tags object per event were a tenth of the collector's cost.)
 *
 * Only frozen objects are remembered (WeakMaps: forgotten with the object): tags made
 * elsewhere (a journal replay, a test) work the same, computed each time.
 */
import type { Tags } from '@siyu-pulse/contracts/catalogue';

/** Distinct tag sets interned at most; beyond it the table starts again (values stay valid). */
const MAX_INTERNED = 100_000;

export class TagSets {
  private readonly byChannel = new Map<string, Map<string, Map<string, Tags>>>();
  private size = 0;

  constructor(private readonly max = MAX_INTERNED) {}

  /** The shared tags object for these values. */
  of(channel: string, community: string, campaign: string): Tags {
    let byCommunity = this.byChannel.get(channel);
    if (byCommunity === undefined) this.byChannel.set(channel, (byCommunity = new Map()));
    let byCampaign = byCommunity.get(community);
    if (byCampaign === undefined) byCommunity.set(community, (byCampaign = new Map()));
    let tags = byCampaign.get(campaign);
    if (tags === undefined) {
      if (this.size >= this.max) {
        this.byChannel.clear();
        this.size = 0;
        return this.of(channel, community, campaign);
      }
      tags = Object.freeze({ channel, community, campaign });
      byCampaign.set(campaign, tags);
      this.size++;
    }
    return tags;
  }
}

const keys = new WeakMap<Tags, string>();
const groups = new WeakMap<Tags, Tags>();

const keyOf = (t: Tags) => `${t.channel}\u0000${t.community}\u0000${t.campaign}`;

/** `channel\0community\0campaign`: the collector's row key of a tag set. */
export function tagKeyOf(tags: Tags): string {
  if (!Object.isFrozen(tags)) return keyOf(tags);
  let k = keys.get(tags);
  if (k === undefined) keys.set(tags, (k = keyOf(tags)));
  return k;
}

/** The tags of the event's per-group rollup row (store/rollups.ts): no campaign. */
export function groupTagsOf(tags: Tags): Tags {
  if (tags.campaign === '' && Object.isFrozen(tags)) return tags;
  if (!Object.isFrozen(tags)) return { channel: tags.channel, community: tags.community, campaign: '' };
  let g = groups.get(tags);
  if (g === undefined) groups.set(tags, (g = Object.freeze({ channel: tags.channel, community: tags.community, campaign: '' })));
  return g;
}
