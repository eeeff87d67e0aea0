// The engine of copyPersist, top to bottom: read the input (a whole array, or a stream a chunk at a
// time) → the write order (plan/write-order.ts) → hooks and keys per chunk → each row encoded by its
// class's compiled encoder into segments → COPY on the transaction's connection → afterwards the
// deferred keys, afterCreate hooks, and the unit of work as flush leaves it. What each option
// changes is decided once, in the job (job.ts). Entry points (copyPersist, copyParallel, loaders)
// sit above and call `runCopy`; nothing here calls them.
import type { EntityClass } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { SegmentBuilder } from '../copy/segment.js';
import type { CopyPersistOptions, CopyPersistResult } from '../api/options.js';
import type { CopySource } from '../input/read-chunks.js';
import { CopyJob } from './job.js';
import type { UpsertDestination } from './upsert.js';

/**
 * Writes `source` (entities, or plain rows of `rowClass`) in one transaction: the caller's or its
 * own. `destination`: an upsert destination built by the caller (a sync's), for upsert options.
 */
export async function runCopy(
  em: SqlEntityManager,
  rowClass: EntityClass<object> | undefined,
  source: CopySource<object>,
  options: CopyPersistOptions,
  destination?: UpsertDestination,
): Promise<CopyPersistResult> {
  const job = new CopyJob(em, rowClass, source, options, destination);
  const result = await job.inTransaction(async connected => {
    const { session } = connected;
    const builder = new SegmentBuilder();
    for await (const batch of job.batches()) {
      job.abort.check();
      const order = job.orderOf(batch);
      builder.follow(order?.sameTable);
      for (const chunk of job.chunksOf(batch, order)) {
        job.abort.check();
        await job.beforeWrite(chunk, connected);
        job.write(chunk, builder);
        for (const segment of builder.take()) {
          await session.send(segment);
          job.abort.check();
          job.progress.sent(segment);
        }
      }
    }
    await session.finish();
    await job.afterCopy(session);
    job.abort.check();
    return job.resultOf(session);
  });
  job.settleUnitOfWork();
  return result;
}
