// Lists the longest functions of the product code (every tracked `*/src/**/*.ts` outside tests),
// read with the TypeScript compiler's parser. With --check it exits 1 when any is longer than
// the limit (100 lines): long functions were where kit's control flow hid.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import ts from 'typescript'

export const maxFunctionLines = 100

/** Every function of the product code, longest first: `{ lines, where }`. */
export function functionLengths(root = process.cwd()) {
  const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => /(^|\/)src\/.*\.ts$/.test(f) && !f.includes('__tests__'))
  const out = []
  for (const file of files) {
    const src = ts.createSourceFile(
      file,
      readFileSync(`${root}/${file}`, 'utf8'),
      ts.ScriptTarget.Latest,
      true
    )
    const visit = (node) => {
      if (
        ts.isFunctionDeclaration(node) ||
        ts.isMethodDeclaration(node) ||
        ts.isArrowFunction(node) ||
        ts.isFunctionExpression(node)
      ) {
        const first = src.getLineAndCharacterOfPosition(node.getStart()).line
        const last = src.getLineAndCharacterOfPosition(node.getEnd()).line
        const name =
          node.name?.getText() ??
          (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText() : '(anonymous)')
        out.push({ lines: last - first + 1, where: `${file}:${first + 1} ${name}` })
      }
      ts.forEachChild(node, visit)
    }
    visit(src)
  }
  return out.sort((a, b) => b.lines - a.lines)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const all = functionLengths()
  const over = all.filter((f) => f.lines > maxFunctionLines)
  console.log(
    `${all.length} functions; the longest ${all[0]?.lines ?? 0} lines; ${over.length} over ${maxFunctionLines}`
  )
  for (const f of (over.length ? over : all).slice(0, over.length || 5))
    console.log(`${String(f.lines).padStart(4)}  ${f.where}`)
  if (process.argv.includes('--check') && over.length > 0) process.exitCode = 1
}
