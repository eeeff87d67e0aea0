// MikroORM 7 keeps its decorators in @mikro-orm/decorators (legacy = TypeScript's experimentalDecorators).
// mikro-orm-6/decorators.ts is the MikroORM 6 version of this file.
export { CreateRequestContext, Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
