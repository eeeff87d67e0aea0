// The model of issue 16: organizations, their users and projects, tasks with many-to-many tags.
// EntitySchema, so the same file runs on MikroORM 7 and 6 without decorators.
import { Collection, EntitySchema, type Opt } from '@mikro-orm/postgresql';

export class Organization {
  id!: number;
  name!: string;
}

export class User {
  id!: number;
  email!: string;
  organization!: Organization;
}

export class Project {
  id!: number;
  name!: string;
  organization!: Organization;
  owner!: User;
}

export class Tag {
  id!: number;
  label!: string;
}

export class Task {
  id!: number;
  title!: string;
  done: Opt<boolean> = false;
  project!: Project;
  tags = new Collection<Tag>(this);
}

export const entities = [
  new EntitySchema<Organization>({
    class: Organization,
    properties: { id: { type: 'integer', primary: true }, name: { type: 'string' } },
  }),
  new EntitySchema<User>({
    class: User,
    tableName: 'app_user',
    properties: {
      id: { type: 'integer', primary: true },
      email: { type: 'string', unique: true },
      organization: { kind: 'm:1', entity: () => Organization },
    },
  }),
  new EntitySchema<Project>({
    class: Project,
    properties: {
      id: { type: 'integer', primary: true },
      name: { type: 'string' },
      organization: { kind: 'm:1', entity: () => Organization },
      owner: { kind: 'm:1', entity: () => User },
    },
  }),
  new EntitySchema<Tag>({
    class: Tag,
    properties: { id: { type: 'integer', primary: true }, label: { type: 'string' } },
  }),
  new EntitySchema<Task>({
    class: Task,
    properties: {
      id: { type: 'integer', primary: true },
      title: { type: 'string' },
      done: { type: 'boolean', default: false },
      project: { kind: 'm:1', entity: () => Project },
      tags: { kind: 'm:n', entity: () => Tag, owner: true },
    },
  }),
];
