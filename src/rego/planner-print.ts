/**
 * A readable text form of the IR, one statement a line with nested blocks indented. Used by
 * golden tests and for debugging; not parsed back.
 */

import type * as ir from './ir.js';

/** Render a whole policy. */
export function printPolicy(p: ir.Policy): string {
  const lines: string[] = [];
  p.static.strings.forEach((s, i) => lines.push(`string ${i} ${JSON.stringify(s)}`));
  for (const b of p.static.builtinFuncs) lines.push(`builtin ${b.name}/${b.arity}`);
  for (const plan of p.plans) {
    lines.push(`plan ${plan.name}`);
    plan.blocks.forEach((b) => printBlock(b, 1, lines));
  }
  for (const f of p.funcs) {
    lines.push(`func ${f.name}(${f.params.map((l) => `l${l}`).join(', ')}) -> l${f.return}`);
    f.blocks.forEach((b) => printBlock(b, 1, lines));
  }
  return lines.join('\n') + '\n';
}

function operand(o: ir.Operand): string {
  if (o.type === 'local') return `l${o.value}`;
  if (o.type === 'bool') return String(o.value);
  return `s${o.value}`;
}

function printBlock(b: ir.Block, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  out.push(`${pad}block`);
  for (const s of b.stmts) printStmt(s, depth + 1, out);
}

function printStmt(s: ir.Stmt, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  const line = (text: string): number => out.push(pad + text);
  switch (s.type) {
    case 'CallStmt':
      line(`l${s.result} = call ${s.func}(${s.args.map(operand).join(', ')})`);
      return;
    case 'CallDynamicStmt':
      line(`l${s.result} = calldyn [${s.path.map(operand).join(', ')}](${s.args.join(', ')})`);
      return;
    case 'DotStmt':
      line(`l${s.target} = ${operand(s.source)}[${operand(s.key)}]`);
      return;
    case 'LenStmt':
      line(`l${s.target} = len ${operand(s.source)}`);
      return;
    case 'ScanStmt':
      line(`scan l${s.source} key l${s.key} value l${s.value}`);
      printBlock(s.block, depth + 1, out);
      return;
    case 'NotStmt':
      line('not');
      printBlock(s.block, depth + 1, out);
      return;
    case 'BlockStmt':
      line('blocks');
      s.blocks.forEach((b) => printBlock(b, depth + 1, out));
      return;
    case 'WithStmt':
      line(`with l${s.local} [${s.path.map((p) => `s${p}`).join(', ')}] = ${operand(s.value)}`);
      printBlock(s.block, depth + 1, out);
      return;
    default:
      line(simple(s));
  }
}

function simple(s: ir.Stmt): string {
  switch (s.type) {
    case 'BreakStmt':
      return `break ${s.index}`;
    case 'AssignVarStmt':
      return `l${s.target} = ${operand(s.source)}`;
    case 'AssignVarOnceStmt':
      return `l${s.target} := once ${operand(s.source)}`;
    case 'AssignIntStmt':
      return `l${s.target} = int ${s.value}`;
    case 'ResetLocalStmt':
      return `reset l${s.target}`;
    case 'MakeNullStmt':
      return `l${s.target} = null`;
    case 'MakeNumberIntStmt':
      return `l${s.target} = number ${s.value}`;
    case 'MakeNumberRefStmt':
      return `l${s.target} = number s${s.index}`;
    case 'MakeArrayStmt':
      return `l${s.target} = array(${s.capacity})`;
    case 'MakeObjectStmt':
      return `l${s.target} = object`;
    case 'MakeSetStmt':
      return `l${s.target} = set`;
    case 'ArrayAppendStmt':
      return `append l${s.array} ${operand(s.value)}`;
    case 'ObjectInsertStmt':
      return `insert l${s.object}[${operand(s.key)}] = ${operand(s.value)}`;
    case 'ObjectInsertOnceStmt':
      return `insert once l${s.object}[${operand(s.key)}] = ${operand(s.value)}`;
    case 'ObjectMergeStmt':
      return `l${s.target} = merge l${s.a} l${s.b}`;
    case 'SetAddStmt':
      return `add l${s.set} ${operand(s.value)}`;
    case 'EqualStmt':
      return `${operand(s.a)} == ${operand(s.b)}`;
    case 'NotEqualStmt':
      return `${operand(s.a)} != ${operand(s.b)}`;
    case 'IsArrayStmt':
      return `is_array ${operand(s.source)}`;
    case 'IsObjectStmt':
      return `is_object ${operand(s.source)}`;
    case 'IsSetStmt':
      return `is_set ${operand(s.source)}`;
    case 'IsDefinedStmt':
      return `defined l${s.source}`;
    case 'IsUndefinedStmt':
      return `undefined l${s.source}`;
    case 'ReturnLocalStmt':
      return `return l${s.source}`;
    case 'ResultSetAddStmt':
      return `result l${s.value}`;
    case 'NopStmt':
      return 'nop';
    default:
      return s.type;
  }
}
