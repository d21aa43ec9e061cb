// Placeholder until the owning work lands; replaced by the real command.
import type { Command } from '../command.js';

export const command: Command = {
  summary: '(not built yet)',
  usage: 'platesearch demo: not built yet',
  async run() {
    process.stderr.write('platesearch demo: not built yet\n');
    return 1;
  },
};
