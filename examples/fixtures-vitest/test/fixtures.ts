// The fixture set: plain rows keyed by entity name, with explicit keys tests can name.
export const fixtures = {
  Task: Array.from({ length: 100 }, (_, i) => ({ id: i + 1, title: `task ${i + 1}`, project: (i % 10) + 1, tags: [(i % 3) + 1] })),
  Organization: [{ id: 1, name: 'Acme' }],
  User: Array.from({ length: 5 }, (_, i) => ({ id: i + 1, email: `user${i + 1}@acme.test`, organization: 1 })),
  Project: Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: `project ${i + 1}`, organization: 1, owner: (i % 5) + 1 })),
  Tag: [{ id: 1, label: 'bug' }, { id: 2, label: 'feature' }, { id: 3, label: 'chore' }],
};
