export { CopyEntityManager } from './copy-entity-manager.js';
export { copyPersist } from './copy-persist.js';
export { copyParallel, CopyParallelError, type CopyParallelOptions, type CopyParallelResult, type InputRange } from './features/parallel.js';
export type { CopyConflictOptions } from './options.js';
export type { CopySource } from './input/read-chunks.js';
export type { CopyPersistOptions, CopyPersistResult, CopyProgress } from './options.js';
export { CopyPersistError, type CopyErrorCode, type CopyErrorContext, type CopyDatabaseErrorContext } from './errors.js';
export { loadFixtures, truncateEntities, type FixtureInput, type FixtureFactory, type FactoryFixture, type LoadFixturesResult } from './features/fixtures.js';
export { loadFile, LoadFileError, type LoadFileErrorCode, type LoadFileOptions, type LoadFileProgress, type LoadFileReject, type LoadFileResult } from './features/load-file.js';
