/**
 * The tables of a job summary, read back as text: one string[][] per
 * `<table>` that @actions/core's summary.addTable wrote, header row first when
 * there is one, cells unescaped (`&lt;` -> `<`, `&amp;` -> `&`, `<br>` -> newline).
 */
export function summaryTables(text: string): string[][][] {
  return [...text.matchAll(/<table>([\s\S]*?)<\/table>/g)].map(([, body]) =>
    [...(body ?? '').matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, row]) =>
      (row ?? '')
        .split(/<t[hd]>/)
        .slice(1)
        .map((cell) =>
          cell
            .replace(/<\/t[hd]>$/, '')
            .replace(/<br>/g, '\n')
            .replace(/&lt;/g, '<')
            .replace(/&amp;/g, '&'),
        ),
    ),
  );
}

/** The row of any summary table whose first cell is `first`. */
export function summaryRow(text: string, first: string): string[] | undefined {
  return summaryTables(text)
    .flat()
    .find((row) => row[0] === first);
}
