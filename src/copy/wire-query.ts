// A plain statement on the session's connection, between two COPYs. On MikroORM 7 that connection
// is lent to the session alone and takes only submittable query objects, so statements go
// through `pg`'s own Query class rather than through the EntityManager.
import pg from 'pg';
import type { Submittable } from '../orm/index.js';

export interface WireResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** Runs one SQL statement (no parameters: callers quote identifiers through the platform). */
export function runQuery(sql: string, submit: (query: Submittable) => void): Promise<WireResult> {
  return new Promise((resolve, reject) => {
    const query = new pg.Query({
      text: sql,
      callback: (error: Error | null, result?: { rows: Record<string, unknown>[]; rowCount: number | null }) => {
        if (error) reject(error);
        else resolve({ rows: result?.rows ?? [], rowCount: result?.rowCount ?? 0 });
      },
    } as pg.QueryConfig);
    submit(query as unknown as Submittable);
  });
}
