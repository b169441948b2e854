/**
 * What a reader needs from every chart a report writes, checked on the rendered SVG (vega writes
 * an aria-label per axis and legend): every axis titled, at least one legend, legends with
 * distinct titles and no placeholder entries, and no label cut short (vega cuts with '…').
 */
const PLACEHOLDERS = new Set(['series', 'value', 'undefined', 'null', '']);

function unescape(text: string): string {
  return text.replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** The problems of one rendered chart; empty when it has none. */
export function chartProblems(svg: string): string[] {
  const labels = [...svg.matchAll(/aria-label="([^"]*)"/g)].map((match) => unescape(match[1]));
  const axes = labels.filter((label) => /^[XY]-axis /.test(label));
  const legends = labels.filter((label) => /^\w+ legend /.test(label));
  const problems: string[] = [];
  if (axes.length === 0) problems.push('no axis');
  for (const axis of axes) if (!/^[XY]-axis titled '[^']+'/.test(axis)) problems.push(`untitled axis: ${axis}`);
  if (legends.length === 0) problems.push('no legend');
  const titles = legends.map((legend) => /legend titled '([^']*)'/.exec(legend)?.[1]).filter((title) => title !== undefined);
  for (const title of new Set(titles)) if (titles.filter((each) => each === title).length > 1) problems.push(`two legends titled '${title}'`);
  for (const legend of legends) {
    const entries = /values?: (.*)$/.exec(legend)?.[1].split(', ') ?? [];
    if (entries.length === 0) problems.push(`a legend without entries: ${legend}`);
    for (const entry of entries) if (PLACEHOLDERS.has(entry.trim().toLowerCase())) problems.push(`a legend entry named '${entry}': ${legend}`);
  }
  if (svg.includes('…')) problems.push(`a label cut short: ${/>([^<]*…[^<]*)</.exec(svg)?.[1] ?? '…'}`);
  return problems;
}
