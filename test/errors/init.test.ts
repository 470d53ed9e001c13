// Initialiser mistakes: a fan naming an attribute the graph does not have (positioned at the
// fan, with the closest attribute as a hint; exit 1, no stack trace).

import { describe, it } from 'vitest';
import { NameError } from '../../runtime/index.js';
import { expectUserError } from './expect-error.js';

describe('initialisers', () => {
  it('fan_in naming an unknown attribute', async () => {
    await expectUserError('fan-unknown-attr.yaml', {
      cls: NameError,
      line: 8,
      col: 52,
      message: /fan_in "widht" of parameter "b" is not an attribute/,
      hint: /did you mean "width"/,
    });
  });
});
