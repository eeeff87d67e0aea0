// A plain statement on the session's connection, between two COPYs. On MikroORM 7 that connection
// is lent to the session alone and takes only submittable query objects, so statements go
// through `pg`'s own Query class rather than through the EntityManager.
import pg from 'pg';
import type { Submittable } from '../orm/index.js';

export interface WireResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

interface PgResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}

/** Runs one SQL statement (no parameters: callers quote identifiers through the platform); of several, the last one's result. */
export function runQuery(sql: string, submit: (query: Submittable) => void): Promise<WireResult> {
  return new Promise((resolve, reject) => {
    const query = new pg.Query({
      text: sql,
      callback: (error: Error | null, results?: PgResult | PgResult[]) => {
        // several statements in one text give one result each: the last is the one asked for
        const result = Array.isArray(results) ? results[results.length - 1] : results;
        if (error) reject(error);
        else resolve({ rows: result?.rows ?? [], rowCount: result?.rowCount ?? 0 });
      },
    } as pg.QueryConfig);
    submit(query as unknown as Submittable);
  });
}
