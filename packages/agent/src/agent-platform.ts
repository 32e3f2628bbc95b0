import type { Platform } from '@custos/shared';

/** The platforms the agent runs on; phones and tablets are managed through their own MDM protocols. */
export type AgentPlatform = Extract<Platform, 'linux' | 'macos' | 'windows'>;

export function agentPlatform(nodePlatform: NodeJS.Platform = process.platform): AgentPlatform | undefined {
  switch (nodePlatform) {
    case 'linux':
      return 'linux';
    case 'darwin':
      return 'macos';
    case 'win32':
      return 'windows';
    default:
      return undefined;
  }
}
