import { describe, expect, it } from 'vitest';
import { TagSets, groupTagsOf, tagKeyOf } from '../src/collector/tagSets.js';

describe('tag sets', () => {
  it('one frozen object per tag set, the same key and group tags as a plain object, bounded', () => {
    const sets = new TagSets(3);
    const a = sets.of('wecom', '群1', 'c');
    expect(sets.of('wecom', '群1', 'c')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(sets.of('wecom', '群1', '')).not.toBe(a);
    const plain = { channel: 'wecom', community: '群1', campaign: 'c' };
    expect(tagKeyOf(a)).toBe(tagKeyOf(plain));
    expect(tagKeyOf(a)).toBe('wecom\u0000群1\u0000c');
    expect(groupTagsOf(a)).toEqual({ channel: 'wecom', community: '群1', campaign: '' });
    expect(groupTagsOf(a)).toBe(groupTagsOf(a));
    expect(groupTagsOf(plain)).toEqual(groupTagsOf(a));
    const noCampaign = sets.of('sms', '群2', '');
    expect(groupTagsOf(noCampaign)).toBe(noCampaign);
    // The bound: a fourth set starts the table again; values already handed out stay valid.
    sets.of('x', 'y', 'z');
    const again = sets.of('wecom', '群1', 'c');
    expect(again).not.toBe(a);
    expect(again).toEqual(a);
  });
});
