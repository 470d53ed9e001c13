// User errors caught before resolution: text that is not YAML, and YAML that breaks the
// schema (an unknown key, a wrong type, a missing field). Fixtures: test/fixtures/errors/.

import { describe, it } from 'vitest';
import { SchemaError, YamlSyntaxError } from '../../runtime/index.js';
import { expectUserError } from './expect-error.js';

describe('not YAML, or not the format', () => {
  it('not YAML: an unclosed flow sequence (YamlSyntaxError where the parser stops)', async () => {
    // The parser reports the unclosed [ and then the unclosed { around it.
    await expectUserError('not-yaml.yaml', { cls: YamlSyntaxError, line: 4, col: 19, message: /end with a \]/ }, 2);
  });

  it('unknown key: "ouputs" at the key, with "did you mean"', async () => {
    await expectUserError('unknown-key.yaml', {
      cls: SchemaError,
      line: 7,
      col: 1,
      message: /unknown key "ouputs"/,
      hint: /did you mean "outputs"/,
    });
  });

  it('wrong type: epochs: ten, at the value', async () => {
    await expectUserError('wrong-type.yaml', {
      cls: SchemaError,
      line: 15,
      col: 11,
      message: /training\.epochs must be integer/,
    });
  });

  it('missing field: a node without op, at the node', async () => {
    await expectUserError('missing-field.yaml', {
      cls: SchemaError,
      line: 7,
      col: 5,
      message: /missing field "op" in nodes\[1\]/,
    });
  });
});
