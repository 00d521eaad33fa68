/**
 * A generated 社群 population with realistic skew, for tests and the scale benchmark: a few
 * large lively groups and a long tail of quiet ones (activity ∝ 1 / rank^0.8, so the top 1%
 * of 20,000 groups send about a third of all messages). Deterministic from a seed.
 */
import { mulberry32 } from '../simulator/random.js';

export interface GroupSpec {
  id: string;
  name: string;
  /** Messages per day. */
  messages: number;
  interactions: number;
  joins: number;
  leaves: number;
}

const CITIES = ['北京', '上海', '广州', '深圳', '杭州', '成都', '武汉', '南京', '西安', '重庆', '苏州', '长沙'];
const KINDS = ['会员', 'VIP', '新客', '福利', '宝妈', '咖啡', '门店', '团购'];

export function groupPopulation(n: number, seed = 17, peakMessages = 400): GroupSpec[] {
  const rnd = mulberry32(seed);
  const out: GroupSpec[] = [];
  for (let i = 0; i < n; i++) {
    const lively = peakMessages / Math.pow(i + 1, 0.8);
    const messages = Math.max(1, Math.round(lively * (0.7 + 0.6 * rnd())));
    const interactions = Math.round(messages * 0.3 * rnd());
    const joins = Math.round(Math.max(0, lively / 20) * rnd() + (rnd() < 0.2 ? 1 : 0));
    const leaves = Math.round(joins * 0.5 * rnd());
    const store = String(1 + (i % 900)).padStart(3, '0');
    out.push({
      id: `g${String(i).padStart(5, '0')}`,
      name: `${CITIES[i % CITIES.length]}${store}店${KINDS[(i >> 3) % KINDS.length]}${1 + (i % 7)}群`,
      messages,
      interactions,
      joins,
      leaves,
    });
  }
  return out;
}
