/**
 * A strict RFC 4180 reader for the tests (no CSV package is installed): records end in CRLF (a lone CR or
 * LF inside an unquoted field is an error), quoted fields may hold commas, CR, LF and doubled quotes, a
 * quote inside an unquoted field or text after a closing quote is an error, every record has as many
 * fields as the header. Returns the header and the records as objects keyed by header name.
 */
export interface ParsedCsv {
  header: string[];
  records: Array<Record<string, string>>;
  rows: string[][];
}

export function parseCsvStrict(text: string): ParsedCsv {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  const n = text.length;
  if (n === 0) throw new Error('csv: empty');
  if (text.charCodeAt(0) === 0xfeff) throw new Error('csv: byte-order mark');
  while (i < n) {
    const c = text[i];
    if (c === '"' && field === '') {
      // quoted field
      i++;
      for (;;) {
        if (i >= n) throw new Error('csv: unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < n && text[i] !== ',' && text[i] !== '\r') throw new Error(`csv: text after closing quote at ${i}`);
      continue;
    }
    if (c === ',') {
      row.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`csv: CR without LF at ${i}`);
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
      continue;
    }
    if (c === '\n') throw new Error(`csv: bare LF at ${i}`);
    if (c === '"') throw new Error(`csv: quote inside unquoted field at ${i}`);
    field += c;
    i++;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]); // last record without CRLF (allowed)
  const header = rows[0];
  if (new Set(header).size !== header.length) throw new Error('csv: duplicate header names');
  const body = rows.slice(1);
  body.forEach((r, k) => {
    if (r.length !== header.length) throw new Error(`csv: record ${k + 1} has ${r.length} fields, header has ${header.length}`);
  });
  return { header, rows: body, records: body.map((r) => Object.fromEntries(header.map((h, j) => [h, r[j]]))) };
}
