// Datasets: seeded epochs, in-memory images, image folders (decoding, conversion, resizing,
// caching, bad files), the CIFAR-10 binary release.
import test from 'ava'
import fs = require('fs')
import path = require('path')
import { batchesPerEpoch, epochBatches, fromImages, listImageFolder, loadCifar10Binary, loadDataSource, loadImageFolder, resolveSplits } from '../src'
import { bytes, classImages, tmpDir, writeImage, writeImageFolder } from './data.fixtures'

const toNumbers = (b: BigInt64Array) => Array.from(b, Number)

test('epochs: the same seed and epoch give the same batches, another epoch another order', (t) => {
  const a = epochBatches(100, 3, { batchSize: 10, seed: 7 }).map(toNumbers)
  const b = epochBatches(100, 3, { batchSize: 10, seed: 7 }).map(toNumbers)
  const c = epochBatches(100, 4, { batchSize: 10, seed: 7 }).map(toNumbers)
  const d = epochBatches(100, 3, { batchSize: 10, seed: 8 }).map(toNumbers)
  t.deepEqual(a, b)
  t.notDeepEqual(a, c)
  t.notDeepEqual(a, d)
  t.deepEqual(
    a.flat().sort((x, y) => x - y),
    Array.from({ length: 100 }, (_, i) => i),
  )
})

test('epochs: drop_last drops the incomplete batch, otherwise it is kept; no shuffle keeps order', (t) => {
  t.is(batchesPerEpoch(103, 10, true), 10)
  t.is(batchesPerEpoch(103, 10, false), 11)
  const dropped = epochBatches(103, 0, { batchSize: 10, dropLast: true })
  t.is(dropped.length, 10)
  t.true(dropped.every((b) => b.length === 10))
  t.is(new Set(dropped.flatMap(toNumbers)).size, 100)
  const kept = epochBatches(103, 0, { batchSize: 10, dropLast: false })
  t.is(kept[10].length, 3)
  t.deepEqual(epochBatches(5, 0, { batchSize: 2, shuffle: false, dropLast: false }).map(toNumbers), [[0, 1], [2, 3], [4]])
})

test('in-memory images: gather returns the images at the indices, labels are kept', async (t) => {
  const imgs = classImages(10, 4, 3)
  const ds = await fromImages(imgs)
  t.is(ds.length, 10)
  t.deepEqual([ds.height, ds.width, ds.numClasses], [4, 4, 3])
  t.deepEqual(Array.from(ds.labels!), imgs.labels)
  const g = await ds.gather([7, 2])
  t.deepEqual(g.shape, [2, 4, 4, 3])
  t.deepEqual(Array.from(g.data.subarray(0, 48)), Array.from(imgs.data.subarray(7 * 48, 8 * 48)))
  t.deepEqual(Array.from(g.data.subarray(48)), Array.from(imgs.data.subarray(2 * 48, 3 * 48)))
  await t.throwsAsync(ds.gather([10]), { message: /index 10 is outside the dataset's 10 images/ })
})

test('in-memory images: wrong shapes and label counts are clear errors', async (t) => {
  const imgs = classImages(6, 4)
  await t.throwsAsync(fromImages({ data: imgs.data, shape: [6, 4, 4, 4] }), { message: /shape must be \[N, H, W, 3\]/ })
  await t.throwsAsync(fromImages({ data: imgs.data, shape: [5, 4, 4, 3] }), { message: /needs 240 bytes but data has 288/ })
  await t.throwsAsync(fromImages({ ...imgs, labels: [0, 1, 2] }), { message: /6 images but 3 labels/ })
  await t.throwsAsync(fromImages({ ...imgs, labels: [0, 1, 2, 3, 4, 9], classes: ['a', 'b'] }), { message: /label 2 is 2 but there are only 2 classes/ })
  await t.throwsAsync(fromImages({ ...imgs, labels: [0, 1, -1, 0, 0, 0] }), { message: /label 2 is -1/ })
})

test('image folder: classes from sub-folders, RGB at the storage size, cached and reused', async (t) => {
  const root = tmpDir('folder')
  const cache = tmpDir('cache')
  const imgs = await writeImageFolder(root, 12, 8, 3)
  const first = await loadImageFolder(root, { imageSize: 8, cacheDir: cache })
  t.deepEqual(first.classes, ['class0', 'class1', 'class2'])
  t.is(first.length, 12)
  t.true(first.meta.cache!.built)
  // Files are listed by class, then name: class0 holds images 0, 3, 6, 9.
  t.deepEqual(first.meta.files!.slice(0, 4), ['class0/0000.png', 'class0/0003.png', 'class0/0006.png', 'class0/0009.png'])
  t.deepEqual(Array.from(first.labels!), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
  const g = await first.gather([1])
  t.deepEqual(Array.from(g.data), Array.from(imgs.data.subarray(3 * 192, 4 * 192)), 'PNG pixels come back exactly')
  const second = await loadImageFolder(root, { imageSize: 8, cacheDir: cache })
  t.false(second.meta.cache!.built, 'an unchanged folder is read from the cache')
  t.deepEqual(Array.from((await second.gather([1])).data), Array.from(g.data))
  t.deepEqual(
    fs.readdirSync(cache).filter((f) => f.includes('.tmp')),
    [],
    'no temporary file is left',
  )
})

test('image folder: adding or changing a file invalidates the cache', async (t) => {
  const root = tmpDir('folder')
  const cache = tmpDir('cache')
  await writeImageFolder(root, 8, 8, 2)
  await loadImageFolder(root, { imageSize: 8, cacheDir: cache })
  await writeImage(path.join(root, 'class1', 'extra.png'), bytes(192, 5), 8, 8)
  const added = await loadImageFolder(root, { imageSize: 8, cacheDir: cache })
  t.true(added.meta.cache!.built)
  t.is(added.length, 9)
  const changed = bytes(192, 9)
  await writeImage(path.join(root, 'class1', 'extra.png'), changed, 8, 8)
  const later = new Date(Date.now() + 5000)
  fs.utimesSync(path.join(root, 'class1', 'extra.png'), later, later)
  const reloaded = await loadImageFolder(root, { imageSize: 8, cacheDir: cache })
  t.true(reloaded.meta.cache!.built)
  const at = reloaded.meta.files!.indexOf('class1/extra.png')
  t.deepEqual(Array.from((await reloaded.gather([at])).data), Array.from(changed))
})

test('image folder: grey and RGBA images become RGB, other sizes are resized, jpg/webp decode', async (t) => {
  const root = tmpDir('mixed')
  await writeImage(path.join(root, 'grey.png'), new Uint8Array(16 * 16).fill(77), 16, 16, 1)
  const rgba = new Uint8Array(8 * 8 * 4)
  for (let i = 0; i < 64; i++) rgba.set([10, 20, 30, 128], i * 4)
  await writeImage(path.join(root, 'rgba.png'), rgba, 8, 8, 4)
  await writeImage(path.join(root, 'photo.jpg'), new Uint8Array(8 * 12 * 3).fill(200), 12, 8)
  await writeImage(path.join(root, 'pic.webp'), new Uint8Array(8 * 8 * 3).fill(50), 8, 8)
  const ds = await loadImageFolder(root, { imageSize: 8, cacheDir: false })
  t.false(ds.labelled, 'a folder of images is unlabelled')
  t.deepEqual(ds.meta.files, ['grey.png', 'photo.jpg', 'pic.webp', 'rgba.png'])
  const all = await ds.gather([0, 1, 2, 3])
  const pixel = (i: number) => Array.from(all.data.subarray(i * 192, i * 192 + 3))
  t.deepEqual(pixel(0), [77, 77, 77], 'grey -> RGB, resized from 16x16')
  t.deepEqual(pixel(3), [10, 20, 30], 'alpha dropped')
  t.true(
    pixel(1).every((v) => Math.abs(v - 200) <= 2),
    `jpeg ${pixel(1)}`,
  )
  t.true(
    pixel(2).every((v) => Math.abs(v - 50) <= 3),
    `webp ${pixel(2)}`,
  )
})

test('image folder: a corrupt or truncated file is named; skipCorrupt skips and lists it; no cache is half-written', async (t) => {
  const root = tmpDir('corrupt')
  const cache = tmpDir('cache')
  await writeImageFolder(root, 6, 8, 2)
  const good = fs.readFileSync(path.join(root, 'class0', '0000.png'))
  fs.writeFileSync(path.join(root, 'class0', 'truncated.png'), new Uint8Array(good.subarray(0, good.length >> 1)))
  fs.writeFileSync(path.join(root, 'class1', 'text.jpg'), 'not an image')
  const error = await t.throwsAsync(loadImageFolder(root, { imageSize: 8, cacheDir: cache }))
  t.regex(error!.message, /cannot decode .*(truncated\.png|text\.jpg)/)
  t.regex(error!.message, /skipCorrupt/)
  t.deepEqual(fs.readdirSync(cache), [], 'nothing written to the cache')
  const ds = await loadImageFolder(root, { imageSize: 8, cacheDir: cache, skipCorrupt: true })
  t.is(ds.length, 6)
  t.deepEqual(
    ds.meta.skipped!.map((s) => s.file),
    ['class0/truncated.png', 'class1/text.jpg'],
  )
  t.deepEqual(Array.from(ds.labels!), [0, 0, 0, 1, 1, 1])
})

test('image folder: missing, empty, mixed and empty-class folders are clear errors', async (t) => {
  const root = tmpDir('bad')
  await t.throwsAsync(loadImageFolder(path.join(root, 'nope')), { message: /data folder .*nope does not exist/ })
  fs.mkdirSync(path.join(root, 'empty'))
  await t.throwsAsync(loadImageFolder(path.join(root, 'empty')), { message: /no images \(.jpg, .jpeg, .png, .webp\) found/ })
  await writeImageFolder(path.join(root, 'mixed'), 2, 4, 2)
  await writeImage(path.join(root, 'mixed', 'loose.png'), bytes(48), 4, 4)
  await t.throwsAsync(listImageFolder(path.join(root, 'mixed')), { message: /holds both images \(loose\.png\) and sub-folders/ })
  t.is((await listImageFolder(path.join(root, 'mixed'), 'flat')).files.length, 3)
  await writeImageFolder(path.join(root, 'noclass'), 2, 4, 2)
  fs.mkdirSync(path.join(root, 'noclass', 'zebra'))
  await t.throwsAsync(listImageFolder(path.join(root, 'noclass')), { message: /class folder .*zebra has no images/ })
})

/** One CIFAR-10 record written by hand: label, then the R, G and B planes. */
function record(label: number, r: number, g: number, b: number): Uint8Array {
  const rec = new Uint8Array(3073)
  rec[0] = label
  rec.fill(r, 1, 1025)
  rec.fill(g, 1025, 2049)
  rec.fill(b, 2049, 3073)
  rec[1 + 5] = 255 // R of pixel (0, 5)
  rec[2049 + 32] = 7 // B of pixel (1, 0)
  return rec
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

test('CIFAR-10 binary: batches 1-5 are train, test_batch is test, planes become NHWC', async (t) => {
  const dir = path.join(tmpDir('cifar'), 'cifar-10-batches-bin')
  fs.mkdirSync(dir)
  for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(dir, `data_batch_${b}.bin`), concat(record(b, 10 * b, 1, 2), record(9, 0, 0, 0)))
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), record(3, 33, 44, 55))
  const root = path.dirname(dir)
  t.deepEqual(resolveSplits(root), { kind: 'cifar10-binary', train: dir, test: dir })
  const train = await loadDataSource(root, 'train')
  const test_ = await loadDataSource(root, 'test')
  t.is(train.length, 10)
  t.is(test_.length, 1)
  t.deepEqual(Array.from(train.labels!), [1, 9, 2, 9, 3, 9, 4, 9, 5, 9])
  t.is(train.classes![3], 'cat')
  const img = (await test_.gather([0])).data
  t.deepEqual(Array.from(img.subarray(0, 3)), [33, 44, 55])
  t.deepEqual(Array.from(img.subarray(15, 18)), [255, 44, 55], 'pixel (0, 5) has R 255')
  t.deepEqual(Array.from(img.subarray(96, 99)), [33, 44, 7], 'pixel (1, 0) has B 7')
  const third = (await train.gather([4])).data
  t.is(third[0], 30)
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), record(3, 1, 1, 1).subarray(0, 3000))
  await t.throwsAsync(loadCifar10Binary(root, 'test'), { message: /3000 bytes is not a whole number of 3073-byte CIFAR-10 records/ })
  fs.rmSync(path.join(dir, 'data_batch_4.bin'))
  await t.throwsAsync(loadCifar10Binary(root, 'train'), { message: /data_batch_4\.bin is missing/ })
})

test('a folder with train/ and test/ resolves to both splits', async (t) => {
  const root = tmpDir('splits')
  await writeImageFolder(path.join(root, 'train'), 4, 4, 2)
  await writeImageFolder(path.join(root, 'test'), 2, 4, 2)
  const splits = resolveSplits(root)
  t.is(splits.train, path.join(root, 'train'))
  t.is(splits.test, path.join(root, 'test'))
  const ds = await loadDataSource(root, 'test', { imageSize: 4, cacheDir: false })
  t.is(ds.length, 2)
  await t.throwsAsync(loadDataSource(path.join(root, 'train'), 'test'), { message: /has no test split/ })
})
