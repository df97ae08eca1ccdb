// Run by live-tensors.test.ts in a fresh process: runtimeInfo().liveTensors counts handles
// process-wide, and ava runs other test files on threads of its own process. Prints the counts
// as one JSON line.
import { Byol, embed, runtimeInfo } from '../../src'
import { classImages, TINY_MODEL } from '../data.fixtures'

async function main(): Promise<void> {
  const count = () => runtimeInfo().liveTensors
  const before = count()
  const model = await Byol.create({ ...TINY_MODEL, device: 'cpu' })
  const withModel = count()
  const images = classImages(6, 16)
  await embed(model, images, { batchSize: 4 })
  const firstEmbed = count()
  for (let i = 0; i < 3; i++) await embed(model, images, { batchSize: 4 })
  const moreEmbeds = count()
  await model.loadState(await model.state('online'), 'online')
  await embed(model, images, { batchSize: 4 })
  const newWeights = count()
  console.log(JSON.stringify({ before, withModel, firstEmbed, moreEmbeds, newWeights }))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
