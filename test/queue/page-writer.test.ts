import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PageWriter, STORED_PAGE_CHARS } from '../../workers/page-writer.js'

test('a page larger than STORED_PAGE_CHARS is stored as several pages of whole results, in order; one larger result is a page of its own', async () => {
  const stored: string[] = []
  let written = 0
  const writer = new PageWriter('s', async (pages) => { stored.push(...pages); return true }, () => {}, (items) => { written += items })
  const results = Array.from({ length: 3000 }, (_, i) => ({ i, pad: 'é'.repeat(i % 500) }))
  results.splice(1000, 0, { i: -1, pad: 'x'.repeat(STORED_PAGE_CHARS * 2) })
  await writer.push(JSON.stringify(results), results.length)
  await writer.push('[1,2,3]', 3)
  await writer.flush()
  assert.ok(stored.length > 4, `${stored.length} pages`)
  const pages = stored.map((page) => JSON.parse(page) as unknown[])
  assert.deepEqual(pages.flat(), [...results, 1, 2, 3])
  for (const [k, page] of stored.entries()) assert.ok(page.length <= STORED_PAGE_CHARS || pages[k].length === 1, `page ${k}: ${page.length} chars`)
  assert.equal(stored.at(-1), '[1,2,3]')
  assert.equal(written, results.length + 3)
})
