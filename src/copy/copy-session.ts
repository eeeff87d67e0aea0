// Feeds encoded segments to the connection: one COPY per run of rows with the same table and
// columns, switching COPY only when a segment needs other columns. Knows which input position
// each line of the current COPY came from, so a database error can name the failing row.
// A segment of binary tuples goes into a COPY of its own (`format binary`): the header before its
// first tuple, the trailer after its last; PostgreSQL's `line N` then counts tuples.
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Submittable } from '../orm/index.js';
import type { RowShape } from '../encoding/row-encoder.js';
import { CopyPersistError, annotateDatabaseError, copyLineOf, statementAfterHeldCopy } from '../errors.js';
import type { EntityPlan } from '../plan/entity-plan.js';
import { CopyIn } from './copy-in.js';
import { BINARY_HEADER, BINARY_TRAILER } from '../encoding/pg-binary.js';
import { copyAtOnce, type CopyAtOnceFailure } from './copy-at-once.js';
import { insertAtOnce, type InsertAtOnceFailure, type InsertedRows } from './insert-at-once.js';
import { runQuery, type WireResult } from './wire-query.js';
import type { Segment } from './segment.js';

interface CurrentCopy {
  plan: EntityPlan;
  shape: RowShape;
  binary: boolean;
  /** The entity's columns in this COPY. */
  columns: string[];
  /** The table the COPY writes into (the destination's staging table, or the entity's). */
  into: string;
  copy: CopyIn;
  sql: string;
  startedAt: number;
  /** Input positions of the lines sent so far, as runs: [firstPosition, length, ...]. */
  positions: number[];
}

/** Runs one statement on the session's connection. */
export type RunQuery = (sql: string) => Promise<WireResult>;

/** Where a COPY's rows go: straight into the entity's table, or on through a staging table. */
export interface CopyDestination {
  /** Prepares the table the COPY writes into; returns it and the COPY's column list. */
  open(plan: EntityPlan, columns: string[], run: RunQuery): Promise<{ table: string; columns: string[] }>;
  /** After a COPY of `copied` rows into `table` (what `open` returned): moves them on; returns how many rows count as written. */
  close(plan: EntityPlan, columns: string[], copied: number, run: RunQuery, table: string): Promise<number>;
}

/** The plain case: COPY into the entity's own table. */
export const directDestination: CopyDestination = {
  open: async (plan, columns) => ({ table: plan.table, columns }),
  close: async (_plan, _columns, copied) => copied,
};

/** A segment held back until `finish`, to go with the others in one query (`atOnce`). */
interface HeldCopy {
  plan: EntityPlan;
  binary: boolean;
  sql: string;
  columns: readonly string[];
  bytes: Buffer[];
  positions: number[];
}

/** A session that writes at once: as COPYs, or as INSERTs that return the keys the database generates. */
export type AtOnce = false | 'copy' | 'insert';

/** How a session writing at once as INSERTs (`AtOnce` 'insert') sends them. */
export interface InsertForm {
  /** The platform-quoted key column each table's INSERT returns. */
  returning(plan: EntityPlan): string | undefined;
  /** Within a caller's transaction: the platform-quoted savepoint the INSERTs go in. */
  savepoint?: string;
}

/** What an INSERT returned (`AtOnce` 'insert'): per row, in the order of `positions` (input positions). */
export interface ReturnedKeys {
  plan: EntityPlan;
  positions: readonly number[];
  keys: readonly (string | null)[][];
}

export class CopySession {
  readonly #em: SqlEntityManager;
  readonly #submit: (query: Submittable) => void;
  readonly #destination: CopyDestination;
  readonly #run: RunQuery;
  readonly #operation: string;
  #current: CurrentCopy | undefined;
  /** Segments held for one query at `finish`; undefined unless the session writes at once. */
  #held: HeldCopy[] | undefined;
  /** Writing at once: a transaction was opened with the first statement (ended by the held query, or by `abort`). */
  #begun = false;
  /** For a session writing at once as INSERTs: what they return, and their savepoint. */
  readonly #insert: InsertForm | undefined;
  /** What the INSERTs returned. */
  readonly returned: ReturnedKeys[] = [];
  /** Rows written per entity class name. */
  readonly byEntity: Record<string, number> = {};

  /**
   * `operation`: the public call this session serves, as database errors name it.
   *
   * `atOnce`: the session runs on a connection without a transaction, for a call that runs no
   * statement after its rows are sent. The rows go as one query at `finish` (copy-at-once.ts),
   * atomic by itself. A statement before them (the key reservation) opens a transaction in the
   * same message and the rows' query commits it: a sequence that hands out values WAL-logs them
   * and so makes its statement commit with a WAL flush of its own, which one transaction shares.
   * `insert`: the same query as INSERTs returning the key column `insert` names
   * (insert-at-once.ts), for rows whose keys the database generates, within a caller's
   * transaction between its savepoint and the savepoint's release; should they fail, the same
   * rows go as COPYs that are rolled back, for the position of the failing row.
   */
  constructor(
    em: SqlEntityManager,
    submit: (query: Submittable) => void,
    destination: CopyDestination = directDestination,
    operation = 'copyPersist',
    atOnce: AtOnce = false,
    insert?: InsertForm,
  ) {
    this.#em = em;
    this.#held = atOnce ? [] : undefined;
    this.#insert = atOnce === 'insert' ? insert : undefined;
    this.#operation = operation;
    this.#submit = submit;
    this.#destination = destination;
    this.#run = sql => runQuery(sql, submit);
  }

  /** Sends one segment, continuing the current COPY when table and columns match. */
  async send(segment: Segment): Promise<void> {
    if (this.#held) return this.#hold(segment);
    const current = this.#current;
    if (!current || current.plan !== segment.encoder.plan || current.shape !== segment.shape || current.binary !== segment.binary) {
      await this.#endCurrent();
      await this.#start(segment);
    }
    const target = this.#current!;
    appendRuns(target.positions, segment.positions);
    await this.#guard(target, () => target.copy.write(segment.bytes!));
  }

  /** Ends the COPY in flight, then runs one statement on the same connection. */
  async query(sql: string): Promise<WireResult> {
    if (this.#held?.length) throw statementAfterHeldCopy();
    // INSERTs returning keys need no statement before them to be in their transaction
    if (this.#held && !this.#begun && !this.#insert) {
      this.#begun = true;
      return this.#run(`begin; ${sql}`);
    }
    await this.#endCurrent();
    return this.#run(sql);
  }

  /** Ends the COPY in flight, then runs one more COPY of ready CSV text (`sql` is its statement). */
  async copyText(sql: string, text: string): Promise<number> {
    if (this.#held?.length) throw statementAfterHeldCopy();
    await this.#endCurrent();
    const copy = CopyIn.start(sql, this.#submit);
    try {
      await copy.write(Buffer.from(text, 'utf8'));
      return await copy.end();
    } catch (e) {
      await copy.abort(e as Error);
      throw e;
    }
  }

  /** Ends the last COPY. */
  async finish(): Promise<void> {
    if (this.#held) return this.#sendHeld();
    await this.#endCurrent();
  }

  /** Cancels the COPY in flight, if any, and waits until the connection is free again. */
  async abort(reason: Error): Promise<void> {
    // held rows were never sent; a query already sent cannot be called back, and settles by itself
    if (this.#held) this.#held = [];
    if (this.#begun) {
      this.#begun = false;
      // on a dead connection this fails too, and the pool discards the connection
      await this.#run('rollback').catch(() => undefined);
    }
    const current = this.#current;
    this.#current = undefined;
    await current?.copy.abort(reason);
  }

  #hold(segment: Segment): void {
    const held = this.#held!;
    const { plan } = segment.encoder;
    const binary = segment.binary;
    const columns = segment.encoder.columnsOf(segment.shape);
    const sql = copySql(plan.table, columns, binary);
    let last = held[held.length - 1];
    if (!last || last.sql !== sql || last.plan !== plan) held.push((last = { plan, binary, sql, columns, bytes: binary ? [BINARY_HEADER] : [], positions: [] }));
    last.bytes.push(segment.bytes!);
    appendRuns(last.positions, segment.positions);
  }

  /** The held segments as INSERTs returning their keys, one per table; on failure, the error of the same rows as COPYs. */
  async #insertHeld(held: HeldCopy[], { returning, savepoint }: InsertForm): Promise<void> {
    const byPlan = new Map<EntityPlan, HeldCopy[]>();
    for (const h of held) {
      const group = byPlan.get(h.plan);
      if (group) group.push(h);
      else byPlan.set(h.plan, [h]);
    }
    const plans = [...byPlan.keys()];
    const statements = plans.map(plan => ({
      table: plan.table,
      returning: returning(plan),
      parts: byPlan.get(plan)!.map(h => {
        // a binary segment's tuples go without the header `hold` put first
        const parts = h.binary ? h.bytes.slice(1) : h.bytes;
        return { columns: h.columns, rows: parts.length === 1 ? parts[0] : Buffer.concat(parts), binary: h.binary, positions: h.positions };
      }),
    }));
    const startedAt = performance.now();
    let inserted: InsertedRows[];
    try {
      inserted = await insertAtOnce(statements, this.#submit, savepoint);
    } catch (e) {
      const { error, statement } = e as InsertAtOnceFailure;
      throw await this.#failedRowOf(held, error, byPlan.get(plans[Math.min(statement, plans.length - 1)])![0]);
    }
    const took = Math.round(performance.now() - startedAt);
    const log = (query: string, affected?: number) => this.#em.config.getLogger().logQuery({ query, took, affected, level: 'info' });
    if (savepoint) log(`savepoint ${savepoint}`);
    inserted.forEach(({ sql, count, positions, returned }, i) => {
      const plan = plans[i];
      this.returned.push({ plan, positions, keys: returned });
      this.byEntity[plan.entityName] = (this.byEntity[plan.entityName] ?? 0) + count;
      log(sql, count);
    });
    if (savepoint) log(`release savepoint ${savepoint}`);
  }

  /**
   * An INSERT names no row when it fails: the same rows as COPYs in a transaction that is rolled
   * back find the line that fails. Should they all go in this time, the INSERT's error stands.
   */
  async #failedRowOf(held: HeldCopy[], error: Error, failed: HeldCopy): Promise<Error> {
    const savepoint = this.#insert?.savepoint;
    const [open, undo] = savepoint ? [`savepoint ${savepoint}`, `rollback to savepoint ${savepoint}`] : ['begin', 'rollback'];
    // the failed INSERT left the caller's transaction aborted until it is back at the savepoint
    if (savepoint) await this.#run(undo).catch(() => undefined);
    // a broken connection (not the server's answer) has no row to find
    if (!(error instanceof pg.DatabaseError)) return this.#databaseError(error, failed.plan, []);
    let found: Error | undefined;
    try {
      await copyAtOnce(held.map(copyStatementOf), this.#submit, undo, open);
    } catch (e) {
      const copyFailure = e as CopyAtOnceFailure;
      await this.#run(undo).catch(() => undefined);
      const at = held[Math.min(copyFailure.statement, held.length - 1)];
      found = this.#databaseError(copyFailure.error, at.plan, at.positions);
    }
    if (savepoint) {
      await this.#run(`release savepoint ${savepoint}`).catch(() => undefined);
      this.#em.config.getLogger().logQuery({ query: undo, level: 'info' });
    }
    return found ?? this.#databaseError(error, failed.plan, []);
  }

  /** The held segments as one query: all stored, or none. */
  async #sendHeld(): Promise<void> {
    const held = this.#held!;
    this.#held = [];
    if (!held.length && !this.#begun) return;
    const startedAt = performance.now();
    if (this.#insert && !this.#begun) return this.#insertHeld(held, this.#insert);
    let counts: number[];
    try {
      counts = await copyAtOnce(held.map(copyStatementOf), this.#submit, this.#begun ? 'commit' : undefined);
      this.#begun = false;
    } catch (e) {
      if (!held.length) throw (e as CopyAtOnceFailure).error;
      const { error, statement } = e as CopyAtOnceFailure;
      const failed = held[Math.min(statement, held.length - 1)];
      throw this.#databaseError(error, failed.plan, failed.positions);
    }
    const took = Math.round(performance.now() - startedAt);
    held.forEach((h, i) => {
      const name = h.plan.entityName;
      this.byEntity[name] = (this.byEntity[name] ?? 0) + counts[i];
      this.#em.config.getLogger().logQuery({ query: h.sql, took, affected: counts[i], level: 'info' });
    });
  }

  async #start(segment: Segment): Promise<void> {
    const { plan } = segment.encoder;
    const columns = segment.encoder.columnsOf(segment.shape);
    const into = await this.#destination.open(plan, columns, this.#run);
    const sql = copySql(into.table, into.columns, segment.binary);
    const copy = CopyIn.start(sql, this.#submit);
    this.#current = { plan, shape: segment.shape, binary: segment.binary, columns, into: into.table, copy, sql, startedAt: performance.now(), positions: [] };
    if (segment.binary) await this.#guard(this.#current, () => copy.write(BINARY_HEADER));
  }


  async #endCurrent(): Promise<void> {
    const current = this.#current;
    if (!current) return;
    const copied = await this.#guard(current, async () => {
      if (current.binary) await current.copy.write(BINARY_TRAILER);
      return current.copy.end();
    });
    this.#current = undefined;
    const rows = await this.#destination.close(current.plan, current.columns, copied, this.#run, current.into).catch(e => {
      if (e instanceof CopyPersistError) throw e;
      throw annotateDatabaseError(this.#em.getDriver().convertException(e as Error), { entity: current.plan.entityName }, this.#operation);
    });
    const name = current.plan.entityName;
    this.byEntity[name] = (this.byEntity[name] ?? 0) + rows;
    // shows up beside flush's INSERTs when the user enables MikroORM's query logging
    this.#em.config.getLogger().logQuery({ query: current.sql, took: Math.round(performance.now() - current.startedAt), affected: rows, level: 'info' });
  }

  /** Runs a step of the COPY; a failure from the server becomes MikroORM's exception, naming the row. */
  async #guard<T>(current: CurrentCopy, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (e) {
      if (e !== current.copy.error) throw e;
      this.#current = undefined;
      throw this.#databaseError(e as Error, current.plan, current.positions);
    }
  }

  /** A COPY's failure from the server as MikroORM's exception, naming the entity and the input position of the row. */
  #databaseError(e: Error, plan: EntityPlan, positions: readonly number[]): Error {
    const line = copyLineOf(e);
    const converted = this.#em.getDriver().convertException(e);
    return annotateDatabaseError(converted, {
      entity: plan.entityName,
      line,
      position: line === undefined ? undefined : positionOfLine(positions, line),
    }, this.#operation);
  }
}

function copyStatementOf(h: HeldCopy): { sql: string; bytes: Buffer } {
  const bytes = h.binary ? [...h.bytes, BINARY_TRAILER] : h.bytes;
  return { sql: h.sql, bytes: bytes.length === 1 ? bytes[0] : Buffer.concat(bytes) };
}

// identifiers come from metadata and are quoted by the platform; no data reaches this SQL
function copySql(table: string, columns: readonly string[], binary: boolean): string {
  return `copy ${table} (${columns.join(', ')}) from stdin with (format ${binary ? 'binary' : 'csv'})`;
}

function appendRuns(into: number[], runs: readonly number[]): void {
  for (let i = 0; i < runs.length; i += 2) {
    const last = into.length - 2;
    if (last >= 0 && into[last] + into[last + 1] === runs[i]) into[last + 1] += runs[i + 1];
    else into.push(runs[i], runs[i + 1]);
  }
}

/** Input position of the 1-based `line` of a COPY. */
function positionOfLine(runs: readonly number[], line: number): number | undefined {
  let remaining = line - 1;
  for (let i = 0; i < runs.length; i += 2) {
    if (remaining < runs[i + 1]) return runs[i] + remaining;
    remaining -= runs[i + 1];
  }
  return undefined;
}
