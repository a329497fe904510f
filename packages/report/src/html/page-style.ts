/** The report page's stylesheet (inlined; no web fonts, no url()). */
export const PAGE_STYLE = `
:root { color-scheme: light; --ink: #1d1f24; --muted: #5b6170; --line: #d9dce3; --bad: #b3261e; --good: #1f7a4d; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--ink); background: #fff; }
header { padding: 20px 28px 12px; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: var(--muted); }
nav { padding: 8px 28px; border-bottom: 1px solid var(--line); font-size: 13px; }
nav a { margin-right: 14px; color: #2b55a6; }
main { padding: 8px 28px 40px; }
section { margin-top: 22px; }
h2 { font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
.facts { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0; }
.facts div { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; min-width: 150px; }
.facts dt { font-size: 12px; color: var(--muted); }
.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.chart-pair { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; margin: 12px 0 18px; }
figure.chart { margin: 0; }
figure.chart figcaption { font-size: 12px; color: var(--muted); max-width: 620px; }
.table-wrap { max-height: 420px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; }
table { border-collapse: collapse; font-size: 12.5px; }
caption { text-align: left; font-weight: 600; padding: 6px 8px; }
th, td { padding: 3px 8px; border-top: 1px solid var(--line); text-align: left; vertical-align: top; overflow-wrap: anywhere; max-width: 420px; }
thead th { position: sticky; top: 0; background: #f4f5f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bad { color: var(--bad); font-weight: 600; }
.good { color: var(--good); font-weight: 600; }
.note { color: var(--muted); }
code { background: #f4f5f8; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
footer { padding: 12px 28px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); }
`;
