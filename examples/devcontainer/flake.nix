{
  # An example devcontainer image built with no nixpkgs at all: every package is a
  # `builtins.derivation` run by the host's /bin/sh, so it builds offline in seconds
  # (the suite's demo and tests use it). A real project would use nixpkgs'
  # dockerTools.buildLayeredImage; the image this flake writes has the same shape:
  # a gzipped docker-archive with one layer per store path of the closure.
  # Host tools from outside the store mean a sandboxed rebuild (archive's verify)
  # needs `extra-sandbox-paths = /bin /usr /lib /lib64`; see examples/README.md.
  description = "Example devcontainer image for vig-os/nix-actions";

  outputs = { self }:
    let
      systems = {
        x86_64-linux = "amd64";
        aarch64-linux = "arm64";
      };

      perSystem = system: arch:
        let
          # A package: `name-version`, built by a short shell script. `meta` is read
          # by the sbom action (licenses, homepage, description).
          mk = { pname, version, script, meta ? { }, deps ? { } }:
            (derivation ({
              inherit system pname version;
              name = "${pname}-${version}";
              builder = "/bin/sh";
              args = [ "-c" script ];
              PATH = "/usr/local/bin:/usr/bin:/bin";
            } // deps)) // { inherit meta; };

          base-files = mk {
            pname = "base-files";
            version = "1.0";
            meta = { description = "/etc files for the devcontainer"; license = "Apache-2.0"; };
            script = ''
              mkdir -p $out/etc
              printf 'NAME="vig-os devcontainer"\nID=vig-os\nVERSION_ID=1.0\n' > $out/etc/os-release
              printf 'root:x:0:0:root:/root:/bin/sh\nvscode:x:1000:1000::/home/vscode:/bin/sh\n' > $out/etc/passwd
            '';
          };

          libgreet = mk {
            pname = "libgreet";
            version = "1.2.3";
            meta = { description = "Greeting library"; license = "MIT"; homepage = "https://example.invalid/libgreet"; };
            script = ''
              mkdir -p $out/lib
              printf 'greet() { printf "Hello, %%s!\\n" "''${1:-world}"; }\n' > $out/lib/libgreet.sh
            '';
          };

          hello = mk {
            pname = "hello";
            version = "2.12.1";
            meta = { description = "Says hello"; license = "GPL-3.0-or-later"; homepage = "https://www.gnu.org/software/hello/"; };
            deps = { inherit libgreet; };
            script = ''
              mkdir -p $out/bin
              printf '#!/bin/sh\n. %s/lib/libgreet.sh\ngreet "$@"\n' "$libgreet" > $out/bin/hello
              chmod +x $out/bin/hello
            '';
          };

          devtools = mk {
            pname = "devtools";
            version = "0.4.0";
            meta = { description = "Project developer tools"; license = "Apache-2.0"; };
            deps = { inherit hello; };
            script = ''
              mkdir -p $out/bin
              printf '#!/bin/sh\nexec %s/bin/hello devcontainer\n' "$hello" > $out/bin/devtools
              chmod +x $out/bin/devtools
            '';
          };

          # The profile the container puts on PATH (what buildEnv would make).
          env = mk {
            pname = "devcontainer-env";
            version = "1.0.0";
            deps = { inherit hello devtools; base_files = base-files; };
            script = ''
              mkdir -p $out/bin
              ln -s $hello/bin/hello $out/bin/hello
              ln -s $devtools/bin/devtools $out/bin/devtools
              ln -s $base_files/etc $out/etc
            '';
          };

          # The image: image.sh walks the closure Nix exports (exportReferencesGraph)
          # and writes one layer per store path, like dockerTools.buildLayeredImage.
          devcontainer = (derivation {
            inherit system;
            name = "devcontainer-image.tar.gz";
            builder = "/bin/sh";
            args = [ ./image.sh ];
            PATH = "/usr/local/bin:/usr/bin:/bin";
            exportReferencesGraph = [ "closure" env ];
            inherit env arch;
            imageName = "devcontainer";
          }) // {
            meta = { description = "Example devcontainer image"; license = "Apache-2.0"; };
          };
        in
        {
          inherit devcontainer hello libgreet devtools base-files env;
          default = devcontainer;
        };
    in
    {
      packages = builtins.mapAttrs perSystem systems;
    };
}
