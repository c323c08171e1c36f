// Run in a fresh process by the suite (`node profile-child.js '<json>'`), so the profile sees
// what a pool worker sees: a small heap, nothing else loaded. Prints one JSON object on stdout.
// For JS hot spots run a worker under `node --cpu-prof` instead (docs/development.md "Benchmarks").
import { networkProfile, stageProfile, type NetworkProfile, type StageProfile } from './profile.js';

export interface ProfileArgs {
  modelsDir: string;
  models: string[];
  crops: string[];
  photos: string[];
  count: number;
  networkRuns: number;
  twoThreads: boolean;
}

export interface ProfileResult {
  stages: StageProfile[];
  networks: NetworkProfile[];
}

async function main(a: ProfileArgs): Promise<ProfileResult> {
  const stages: StageProfile[] = [];
  for (const model of a.models) {
    stages.push(await stageProfile(a.modelsDir, model, 'crops', a.crops, a.count));
    stages.push(await stageProfile(a.modelsDir, model, 'photos', a.photos, Math.min(a.count, a.photos.length)));
  }
  const networks = [
    ...(await networkProfile(a.modelsDir, 1, a.networkRuns)),
    ...(a.twoThreads ? await networkProfile(a.modelsDir, 2, a.networkRuns) : []),
  ];
  return { stages, networks };
}

process.stdout.write(`${JSON.stringify(await main(JSON.parse(process.argv[2] ?? '{}') as ProfileArgs))}\n`);
