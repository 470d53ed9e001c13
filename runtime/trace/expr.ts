// Formulas for `trace`: what one IR node computes, as a short expression over named operands
// (`x · w1ᵀ`, `dy * o * (1 - o)`, `w1 - 0.1 * grad(w1)`). Elementwise binary ops print with
// their own element expression from ops/elementwise.ts, so a new row there needs nothing here;
// the caller decides how each operand reads (a name, `dy`, a constant, an inlined sub-formula).

import { elementwiseExpr, type BinaryOpName, type UnaryOpName } from '../ops/elementwise.js';
import type { IRNode } from '../ir/types.js';

/**
 * A printed expression; `atom` is true where it needs no parentheses as an operand. `prec`
 * (2 for * / ·, 1 for + -) lets `w1 - 0.1 * g` drop parentheses the arithmetic does not need.
 */
export interface Expr {
  text: string;
  atom: boolean;
  prec?: number;
}

// Precedence of the infix ops: elementwise rows print their own text, this only says how tightly it binds.
const INFIX: Record<string, number> = { add: 1, sub: 1, mul: 2, div: 2, matmul: 2 };

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

function axesText(attrs: Record<string, unknown>): string {
  const parts: string[] = [];
  const axis = attrs.axis;
  if (Array.isArray(axis)) parts.push(axis.length === 1 ? `axis ${String(axis[0])}` : `axes [${axis.join(', ')}]`);
  else if (axis !== undefined) parts.push(`axis ${String(axis)}`);
  if (attrs.keepdims === true) parts.push('keepdims');
  return parts.length ? `, ${parts.join(', ')}` : '';
}

/** The formula of `node`, each input printed by `operand`. Source nodes print as their op. */
export function nodeExpr(node: IRNode, operand: (name: string) => Expr): Expr {
  const args = node.inputs.map(operand);
  const op = node.op;
  const binary = elementwiseExpr.binary as Record<string, ((a: string, b: string) => string) | undefined>;
  const unary = elementwiseExpr.unary as Record<string, ((x: string) => string) | undefined>;
  if (args.length === 0) return { text: op, atom: true };
  if (op === 'neg') return { text: `-${paren(args[0]!)}`, atom: false, prec: 3 };
  if (unary[op as UnaryOpName]) return { text: `${op}(${args[0]!.text})`, atom: true };
  const js = binary[op as BinaryOpName];
  // JavaScript's Math.f(...) reads as plain f(...) in a formula.
  const p = INFIX[op];
  if (js && p !== undefined)
    return { text: js(side(args[0]!, p, false), side(args[1]!, p, true)), atom: false, prec: p };
  if (js) return classify(js(paren(args[0]!), paren(args[1]!)).replace(/Math\./g, ''));
  switch (op) {
    case 'matmul': {
      const t = (i: number, attr: string) => `${paren(args[i]!)}${node.attrs[attr] === true ? 'ᵀ' : ''}`;
      return { text: `${t(0, 'transpose_a')} · ${t(1, 'transpose_b')}`, atom: false, prec: 2 };
    }
    case 'sum':
    case 'mean':
      return { text: `${op}(${args[0]!.text}${axesText(node.attrs)})`, atom: true };
    case 'reshape':
    case 'broadcast_to':
      return { text: `${op}(${args[0]!.text}, [${(node.attrs.shape as number[]).join(', ')}])`, atom: true };
    case 'transpose': {
      const perm = node.attrs.perm as number[] | undefined;
      return { text: perm ? `transpose(${args[0]!.text}, [${perm.join(', ')}])` : `${paren(args[0]!)}ᵀ`, atom: true };
    }
    default:
      // Ops without a notation of their own (and ops added later) read as calls.
      return { text: `${op}(${args.map((a) => a.text).join(', ')})`, atom: true };
  }
}
