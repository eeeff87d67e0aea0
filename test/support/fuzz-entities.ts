// The entities of the property-based differential test. `createFuzzEntities()` builds fresh
// classes on every call, so the flushing ORM and the copying ORM never share metadata. Ids are
// assigned by the test (no sequence), so a differing row is easy to read in a failure.
import { BigIntType, DecimalType, EntitySchema } from '@mikro-orm/core';

export function createFuzzEntities() {
  class FuzzText {
    id!: number;
    textValue?: string | null;
    varcharValue?: string | null;
  }
  const FuzzTextSchema = new EntitySchema<FuzzText>({
    class: FuzzText,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: false },
      textValue: { type: 'text', nullable: true },
      varcharValue: { type: 'string', length: 4000, nullable: true },
    },
  });

  class FuzzNumber {
    id!: number;
    intValue?: number | null;
    doubleValue?: number | null;
    floatValue?: number | null;
    decimalAsString?: string | null;
    decimalAsNumber?: number | null;
    numericUnbounded?: string | null;
    bigintAsString?: string | null;
    bigintAsBigint?: bigint | null;
  }
  const FuzzNumberSchema = new EntitySchema<FuzzNumber>({
    class: FuzzNumber,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: false },
      intValue: { type: 'integer', nullable: true },
      doubleValue: { type: 'double', nullable: true },
      floatValue: { type: 'float', nullable: true },
      decimalAsString: { type: new DecimalType('string'), precision: 20, scale: 6, nullable: true },
      decimalAsNumber: { type: new DecimalType('number'), precision: 20, scale: 6, nullable: true },
      numericUnbounded: { type: new DecimalType('string'), columnType: 'numeric', nullable: true },
      bigintAsString: { type: new BigIntType('string'), nullable: true },
      bigintAsBigint: { type: new BigIntType('bigint'), nullable: true },
    },
  });

  class FuzzDate {
    id!: number;
    timestamptzValue?: Date | null;
    timestampValue?: Date | null;
  }
  const FuzzDateSchema = new EntitySchema<FuzzDate>({
    class: FuzzDate,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: false },
      timestamptzValue: { type: 'datetime', nullable: true },
      timestampValue: { type: 'datetime', columnType: 'timestamp(3)', nullable: true },
    },
  });

  class FuzzNote {
    body?: string | null;
    amount?: number | null;
  }
  const FuzzNoteSchema = new EntitySchema<FuzzNote>({
    class: FuzzNote,
    embeddable: true,
    properties: {
      body: { type: 'string', nullable: true },
      amount: { type: 'double', nullable: true },
    },
  });
  class FuzzJson {
    id!: number;
    jsonValue?: unknown;
    note?: FuzzNote | null;
  }
  const FuzzJsonSchema = new EntitySchema<FuzzJson>({
    class: FuzzJson,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: false },
      jsonValue: { type: 'json', nullable: true },
      note: { kind: 'embedded', entity: () => FuzzNote, object: true, nullable: true },
    },
  });

  class FuzzArray {
    id!: number;
    stringArray?: (string | null)[] | null;
    numberArray?: (number | null)[] | null;
  }
  const FuzzArraySchema = new EntitySchema<FuzzArray>({
    class: FuzzArray,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: false },
      stringArray: { type: 'string[]', nullable: true },
      numberArray: { type: 'number[]', nullable: true },
    },
  });

  return {
    entities: [FuzzTextSchema, FuzzNumberSchema, FuzzDateSchema, FuzzNoteSchema, FuzzJsonSchema, FuzzArraySchema],
    classes: { FuzzText, FuzzNumber, FuzzDate, FuzzJson, FuzzArray },
  };
}

export type FuzzClasses = ReturnType<typeof createFuzzEntities>['classes'];
export type FuzzEntityName = keyof FuzzClasses;

/** Table of each fuzz entity, as MikroORM's default naming strategy names it. */
export const FUZZ_TABLES: Record<FuzzEntityName, string> = {
  FuzzText: 'fuzz_text',
  FuzzNumber: 'fuzz_number',
  FuzzDate: 'fuzz_date',
  FuzzJson: 'fuzz_json',
  FuzzArray: 'fuzz_array',
};
