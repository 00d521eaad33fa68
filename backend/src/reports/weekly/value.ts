/** Section 价值贡献: GMV, orders, AOV, spend, ROAS, repeat purchases. */
import type { ReportSection } from '@siyu-pulse/contracts/reports';
import type { Reader } from './reader.js';
import { dailyChart, lbl, metricsOf, v, wow } from './parts.js';

export async function value(r: Reader): Promise<ReportSection | null> {
  const ms = await metricsOf(r, ['gmv', 'paid_orders', 'aov', 'spend', 'roas', 'repeat_purchase_rate']);
  if (!ms.size) return null;
  const gmvDaily = r.kpi('gmv') ? await r.daily('gmv', r.week) : [];
  const g = ms.get('gmv')?.metric;
  const o = ms.get('paid_orders')?.metric;
  const a = ms.get('aov')?.metric;
  const s = ms.get('spend')?.metric;
  const roas = ms.get('roas')?.metric;
  const repeat = ms.get('repeat_purchase_rate')?.metric;
  const repeatZh = repeat && repeat.value !== null ? `复购率 ${v(repeat, 'zh')}（截至周末 30 天的付款成员中此前 30 天也付过款的占比）${wow(repeat, 'zh')}。` : '';
  const repeatEn = repeat && repeat.value !== null ? ` Repeat purchase rate ${v(repeat, 'en')} (buyers of the 30 days to the week's end who also paid in the 30 days before)${wow(repeat, 'en')}.` : '';
  return {
    id: 'value',
    title: lbl('价值贡献', 'Value'),
    finding: lbl(
      `成交额 GMV ${v(g, 'zh')}${wow(g, 'zh')}；支付订单 ${v(o, 'zh')} 笔，客单价 ${v(a, 'zh')}${wow(a, 'zh')}。投放花费 ${v(s, 'zh')}，ROAS ${v(roas, 'zh')}${wow(roas, 'zh')}。${repeatZh}`,
      `GMV ${v(g, 'en')}${wow(g, 'en')}; ${v(o, 'en')} paid orders, average order value ${v(a, 'en')}${wow(a, 'en')}. Spend ${v(s, 'en')}, ROAS ${v(roas, 'en')}${wow(roas, 'en')}.${repeatEn}`,
    ),
    metrics: [...ms.values()].map((f) => f.metric),
    chart: dailyChart(r, 'fen', lbl('每日成交额', 'Daily GMV'), [{ name: lbl('成交额', 'GMV'), values: gmvDaily }]),
    link: r.link(['gmv', 'aov', 'roas'], { step: '1d' }),
  };
}
