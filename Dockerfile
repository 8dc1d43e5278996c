# taco for batch jobs (docs/scale.md): Debian 12 with the same bootstrap as `make test`, built
# and installed under /usr/local. Build from the repository root:
#   docker build -t taco .
#   docker run --rm -v $PWD/data:/data taco gen --data /data/world/scene-graph-annotations.json --out /data/train.jsonl
FROM debian:12
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates make sudo && rm -rf /var/lib/apt/lists/*
WORKDIR /src/taco
COPY . .
# The bootstrap installs the Debian packages (and the test clients' npm packages); the image
# builds without the tests to keep it smaller.
RUN scripts/bootstrap \
 && make build CMAKE_FLAGS="-G Ninja -DCMAKE_BUILD_TYPE=Release -DTACO_BUILD_TESTS=OFF -DTACO_BUILD_BENCH=OFF" \
 && make install PREFIX=/usr/local \
 && rm -rf build tests/js/node_modules /root/.cache/ccache /var/lib/apt/lists/*
WORKDIR /work
ENTRYPOINT ["taco"]
CMD ["--help"]
