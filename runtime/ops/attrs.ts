// Attribute schemas several ops share, in TypeBox: each is the JSON Schema the loader validates
// (and the published schema offers editors, with its description and examples) and, through
// Static<>, the TypeScript type the op's functions receive.

import {
  Array as TArray,
  Boolean as TBoolean,
  Integer,
  Number as TNumber,
  Object as TObject,
  Optional,
  String as TString,
  Unsafe,
} from '@sinclair/typebox';

/**
 * The TypeBox builders ops use, imported one by one: TypeBox's own `Type` holds every builder, and
 * importing it would put all of them into the browser bundle (46 KB minified instead of 3 KB).
 */
export const Type = {
  Array: TArray,
  Boolean: TBoolean,
  Integer,
  Number: TNumber,
  Object: TObject,
  Optional,
  String: TString,
  Unsafe,
};

/** No attributes at all. */
export const noAttrs = Type.Object({}, { additionalProperties: false });

/** One axis or a list of axes (oneOf, not TypeBox's anyOf: ajv then reports the member that failed once). */
export const axes = (description: string, examples: unknown[]) =>
  Type.Unsafe<number | number[]>({
    description,
    examples,
    oneOf: [{ type: 'integer' }, { type: 'array', items: { type: 'integer' } }],
  });

export const keepdims = (description: string) =>
  Type.Optional(Type.Boolean({ description, default: false, examples: [true] }));

/** sum, mean, max, min, logsumexp. */
export const reduceAttrs = Type.Object(
  {
    axis: Type.Optional(
      axes('Axis or axes to reduce (negative counts from the end); all axes when absent.', [-1, [0, 1]]),
    ),
    keepdims: keepdims('Keep reduced axes with size 1.'),
  },
  { additionalProperties: false },
);

/** A target shape: integers (one may be -1), `batch`, or a graph attribute's name. */
export const shapeAttr = (description: string) =>
  Type.Unsafe<number[]>({
    type: 'array',
    description,
    examples: [
      ['batch', 4],
      [-1, 8],
    ],
    items: {
      oneOf: [
        { type: 'integer', minimum: -1 },
        { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      ],
    },
  });
