// MikroORM 6 ships its decorators in @mikro-orm/core.
export { CreateRequestContext, Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
