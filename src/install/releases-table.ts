/**
 * The pinned release table: SHA-256 of each official Nix binary tarball
 * (https://releases.nixos.org/nix/nix-<version>/nix-<version>-<system>.tar.xz).
 *
 * This is data from outside, never guessed. `scripts/update-nix-releases` rewrites
 * this file from the official `.sha256` files (it needs the internet; the scheduled
 * workflow .github/workflows/update-nix-releases.yml runs it and opens a PR).
 *
 * The entries below were not fetched from releases.nixos.org: they were copied
 * exactly from the official per-version `install` scripts (which embed one hash per
 * platform) as stored in a public-code search index, and each entry names that
 * source. Copies that differed from the official script text were not used.
 * Run scripts/update-nix-releases to re-verify them against the `.sha256` files.
 */
export interface ReleaseEntry {
  /** Lower-case hex SHA-256 of the tarball. */
  sha256: string;
  /** Where the hash was taken from. */
  source: string;
}

export const NIX_RELEASES: Record<string, Record<string, ReleaseEntry>> = {
  '2.35.2': {
    'x86_64-linux': {
      sha256: '0c3960a9792331a22081c3c7a5d8465db9b17c50b3acdf18587fa4c6f2cb1158',
      source: 'https://releases.nixos.org/nix/nix-2.35.2/install (stored copy, search index file 60111022830)',
    },
    'aarch64-linux': {
      sha256: '4d0302a2910f5eec1c33b8deef634f04899a75737e7001ec49908d003ae5efda',
      source: 'https://releases.nixos.org/nix/nix-2.35.2/install (stored copy, search index file 60111022830)',
    },
    'aarch64-darwin': {
      sha256: '1695c13aba5afa7c2ecd6dc4a9393f602e7bbc440ed45e81602c831546580ec3',
      source: 'https://releases.nixos.org/nix/nix-2.35.2/install (stored copy, search index file 60111022830)',
    },
  },
  '2.34.6': {
    'x86_64-linux': {
      sha256: '311b9f406f0239ef640a1e3fbea1df1bac9d3a7c316c4def30df3206dd964960',
      source: 'https://releases.nixos.org/nix/nix-2.34.6/install (stored copy, search index file 51903138201)',
    },
    'aarch64-linux': {
      sha256: '09edae3ed146b1a47de84eda6135ef12ee74783d409e7a207c912cb94e14aa35',
      source: 'https://releases.nixos.org/nix/nix-2.34.6/install (stored copy, search index file 51903138201)',
    },
    'aarch64-darwin': {
      sha256: '596ae5555acfb497723934b98b66b7d638eb8f7d856975466f2c1217ce94f8a1',
      source: 'https://releases.nixos.org/nix/nix-2.34.6/install (stored copy, search index file 51903138201)',
    },
  },
  '2.21.0': {
    'x86_64-linux': {
      sha256: 'd4d747147cb981987b3d405f31b2ad5a68c8ba64c6d2776e7233fe891ff629a1',
      source: 'https://releases.nixos.org/nix/nix-2.21.0/install (stored copy, search index file 30062814247)',
    },
    'aarch64-linux': {
      sha256: '6be72d4ee2e72eaaaafc708e8c8b0dc2a83d8db094c6a1cc0c4d604f2f36b79e',
      source: 'https://releases.nixos.org/nix/nix-2.21.0/install (stored copy, search index file 30062814247)',
    },
    'aarch64-darwin': {
      sha256: '5e5c77a6384cb8b25e71b5a60461db23b32098b1e8d9618e97a0d09269a30fcd',
      source: 'https://releases.nixos.org/nix/nix-2.21.0/install (stored copy, search index file 30062814247)',
    },
  },
};
