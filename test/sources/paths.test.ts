import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { mkdir, rm, symlink, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { validateScan } from '../../src/pipeline/index.js'
import { makeDataDir, request, type DataDir } from '../helpers/scan-task-harness.js'

type CodedError = Error & { code?: string, statusCode?: number, errors?: Array<{ path: string, message: string }> }

describe('file source paths', () => {
  let data: DataDir
  const outsideDir = mkdtempSync(join(tmpdir(), 'parascan-outside-'))
  before(async () => {
    data = await makeDataDir()
    await writeFile(join(outsideDir, 'secret.ndjson'), '{"secret":1}\n')
    await mkdir(join(data.dir, 'sub'))
    await data.write('sub/in.ndjson', '{"a":1}\n')
    await data.write('ok.ndjson', '{"a":1}\n')
    await symlink(join(outsideDir, 'secret.ndjson'), join(data.dir, 'link-out.ndjson'))
    await symlink(outsideDir, join(data.dir, 'dir-out'))
    await symlink(join(data.dir, 'ok.ndjson'), join(data.dir, 'link-in.ndjson'))
    await symlink('../' + 'nowhere', join(data.dir, 'dangling.ndjson'))
  })
  after(async () => {
    await data.remove()
    await rm(outsideDir, { recursive: true, force: true })
  })

  const submit = (path: string) => validateScan(request({ source: { type: 'file', path, format: 'ndjson' } }), data.ctx)

  function refusedAsOutside (error: CodedError): boolean {
    assert.equal(error.code, 'PARASCAN_PATH_OUTSIDE_DATA_DIR')
    assert.equal(error.statusCode, 400)
    assert.deepEqual(error.errors, [{ path: 'source.path', message: 'leads outside PARASCAN_DATA_DIR' }])
    return true
  }

  for (const path of [
    '../secret.ndjson', '..', 'sub/../../x.ndjson', '/etc/passwd', join(outsideDir, 'secret.ndjson'),
    'ok.ndjson\0.txt', 'link-out.ndjson', 'dir-out/secret.ndjson', 'C:\\Windows\\win.ini', '\\\\server\\share\\x'
  ]) {
    it(`refuses ${JSON.stringify(path)}`, async () => {
      await assert.rejects(submit(path), refusedAsOutside)
    })
  }

  it('accepts files inside PARASCAN_DATA_DIR, also through a symbolic link that stays inside', async () => {
    await submit('ok.ndjson')
    await submit('sub/in.ndjson')
    await submit('./sub/../ok.ndjson')
    await submit('link-in.ndjson')
  })

  it('says a missing file, a directory or a dangling link cannot be read (4xx)', async () => {
    for (const [path, reason] of [['missing.ndjson', 'no such file'], ['sub', 'not a regular file'], ['.', 'not a regular file'], ['dangling.ndjson', 'no such file']]) {
      await assert.rejects(submit(path), (error: CodedError) => {
        assert.equal(error.code, 'PARASCAN_SOURCE_FILE')
        assert.equal(error.statusCode, 422)
        assert.match(error.message, new RegExp(reason))
        assert.deepEqual(error.errors, [{ path: 'source.path', message: reason }])
        return true
      })
    }
  })

  it('says an unreadable file cannot be read', { skip: process.getuid?.() === 0 ? 'root reads every file' : false }, async () => {
    await data.write('locked.ndjson', '{}\n')
    await chmod(join(data.dir, 'locked.ndjson'), 0o000)
    await assert.rejects(submit('locked.ndjson'), /permission denied/)
  })

  it('says a missing PARASCAN_DATA_DIR cannot be read', async () => {
    await assert.rejects(validateScan(request({ source: { type: 'file', path: 'x.ndjson', format: 'ndjson' } }), { dataDir: join(outsideDir, 'none') }),
      (error: CodedError) => error.code === 'PARASCAN_SOURCE_FILE' && /PARASCAN_DATA_DIR cannot be read/.test(error.message))
  })
})
