import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { csvRecords, type CsvOptions, type CsvRecord } from '../../src/loaders/csv-records.js';
import { ndjsonLines } from '../../src/loaders/ndjson-lines.js';

/** Parses `text` fed in pieces of `size` bytes (so pieces split records, quotes and UTF-8 characters). */
async function parse(text: string, size: number, options?: CsvOptions): Promise<CsvRecord[]> {
  const bytes = Buffer.from(text);
  async function* pieces() {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const records: CsvRecord[] = [];
  for await (const record of csvRecords(pieces(), options)) records.push(record);
  return records;
}

const SAMPLE = [
  '\uFEFFa,b,c',
  'plain,,x',
  '"quoted, with comma","say ""hi""",""',
  '',
  '"multi',
  'line é😀",2,3',
  'crlf,end,here\r',
  'last,no,newline',
].join('\n');

describe('csvRecords', () => {
  for (const size of [1, 2, 3, 7, 64, 1 << 16]) {
    it(`fields, NULL vs empty string, lines and raw text, fed ${size} bytes at a time`, async () => {
      const records = await parse(SAMPLE, size);
      assert.deepEqual(records.map(r => r.fields), [
        ['a', 'b', 'c'],
        ['plain', null, 'x'],
        ['quoted, with comma', 'say "hi"', ''],
        ['multi\nline é😀', '2', '3'],
        ['crlf', 'end', 'here'],
        ['last', 'no', 'newline'],
      ]);
      assert.deepEqual(records.map(r => r.line), [1, 2, 3, 5, 7, 8]);
      assert.equal(records[3].raw, '"multi\nline é😀",2,3\n');
      assert.equal(records[5].raw, 'last,no,newline\n');
      // bytes only grow, and the last record ends the file
      const bytes = records.map(r => r.bytes);
      assert.deepEqual([...bytes].sort((x, y) => x - y), bytes);
      assert.equal(bytes.at(-1), Buffer.byteLength(SAMPLE));
    });
  }

  it('strict by default: a stray quote makes a bad record, and the next line parses', async () => {
    const records = await parse('a,b\nx "y" z,1\n"QUOTED"X",2\nok,3\n', 5);
    assert.deepEqual(records.map(r => [r.line, r.error ?? r.fields]), [
      [1, ['a', 'b']],
      [2, 'a quote inside unquoted field 1 (quote the field and write the quote as "")'],
      [3, 'text after the closing quote of field 1 (a quote inside a field is written "")'],
      [4, ['ok', '3']],
    ]);
    assert.equal(records[2].raw, '"QUOTED"X",2\n');
  });

  it('relaxQuotes takes stray quotes literally', async () => {
    const records = await parse('x "y" z,"ab"cd\n', 4, { relaxQuotes: true });
    assert.deepEqual(records.map(r => r.fields), [['x "y" z', 'abcd']]);
  });

  it('an unclosed quote is one bad record to the end, named by its first line', async () => {
    const records = await parse('a\n1\n"open\n2\n3\n', 3);
    assert.equal(records.length, 3);
    assert.deepEqual([records[2].line, records[2].error, records[2].raw], [3, 'the quoted field opened on line 3 is never closed', '"open\n2\n3\n']);
  });

  it('another delimiter', async () => {
    const records = await parse('a;b\n"x;y";2\n', 2, { delimiter: ';' });
    assert.deepEqual(records.map(r => r.fields), [['a', 'b'], ['x;y', '2']]);
  });
});

describe('ndjsonLines', () => {
  it('lines with their numbers and the bytes up to their end, across split UTF-8 characters', async () => {
    const text = '\uFEFF{"a":"é"}\r\n\n{"b":"😀"}';
    const bytes = Buffer.from(text);
    async function* pieces() {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    }
    const lines = [];
    for await (const line of ndjsonLines(pieces())) lines.push(line);
    assert.deepEqual(lines.map(l => [l.line, l.text]), [[1, '{"a":"é"}'], [2, ''], [3, '{"b":"😀"}']]);
    assert.equal(lines.at(-1)!.bytes, bytes.length);
  });
});
