// Formulas for `trace`: what one IR node computes, as a short expression over named operands
// (`x · w1ᵀ`, `dy * o * (1 - o)`, `w1 - 0.1 * grad(w1)`). Each op declares its own formula
// (OpDef.trace: elementwise binary rows print their element expression); this module lays
// them out, and the caller decides how each operand reads (a name, `dy`, a constant, an
// inlined sub-formula).

import type { IRNode } from '../ir/types.js';
import type { TraceExpr } from '../ops/op.js';
import { getOp } from '../ops/registry.js';

/**
 * A printed expression; `atom` is true where it needs no parentheses as an operand. `prec`
 * (2 for * / ·, 1 for + -) lets `w1 - 0.1 * g` drop parentheses the arithmetic does not need.
 */
export type Expr = TraceExpr;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A value's name as an operand: node names with `/` (subgraph prefixes) are quoted, so `loss/diff` never reads as a division. */
export function nameExpr(name: string): Expr {
  return { text: IDENT.test(name) ? name : `\`${name}\``, atom: true };
}

/** A constant as an operand: a number, or a short list. */
export function constExpr(node: IRNode): Expr {
  const v = node.attrs.value;
  if (typeof v === 'number') return { text: fmtConst(v), atom: v >= 0, prec: 3 };
  const list = (v as number[]).map(fmtConst);
  return { text: `[${list.length > 4 ? [...list.slice(0, 4), '…'].join(', ') : list.join(', ')}]`, atom: true };
}

function fmtConst(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/** True when the parenthesis opening at `open` closes at the end of `s`. */
function closesAtEnd(s: string, open: number): boolean {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i === s.length - 1;
  }
  return false;
}

/** `f(...)` and `(...)` are atoms; anything else with an operator in it is not. */
function classify(text: string): Expr {
  const call = /^[A-Za-z_][A-Za-z0-9_]*\(/.exec(text);
  if (call && closesAtEnd(text, call[0].length - 1)) return { text, atom: true };
  if (text.startsWith('(') && closesAtEnd(text, 0)) return { text, atom: true };
  return { text, atom: IDENT.test(text) };
}

const paren = (e: Expr) => (e.atom ? e.text : `(${e.text})`);

/**
 * An operand of an infix op of precedence p: the left one keeps equal precedence bare
 * (a - b - c), the right one does not (a - (b - c), and dy * (x * 2) keeps the rule's grouping);
 * a leading minus on the right is always wrapped (x - (-2)).
 */
function side(e: Expr, p: number, right: boolean): string {
  if (e.atom && !(right && e.text.startsWith('-'))) return e.text;
  const q = e.prec ?? 0;
  return (right ? q > p : q >= p) && !(right && e.text.startsWith('-')) ? e.text : `(${e.text})`;
}

/** The formula of `node`, each input printed by `operand`. Source nodes print as their op. */
export function nodeExpr(node: IRNode, operand: (name: string) => Expr): Expr {
  const args = node.inputs.map(operand);
  if (args.length === 0) return { text: node.op, atom: true };
  const rule = getOp(node.op)?.trace;
  if (rule) return rule({ node, args, paren, side, classify });
  // Ops without a notation of their own read as calls.
  return { text: `${node.op}(${args.map((a) => a.text).join(', ')})`, atom: true };
}
