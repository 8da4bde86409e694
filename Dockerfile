# The photogen image: one static binary in an image from scratch, run as user 65532.
#   docker build --build-arg REGISTRY=<your registry or mirror> \
#     --build-arg REVISION="$(git rev-parse HEAD)" -t photogen:local .
# compose.yaml builds it once (the migrate service) and runs it as migrate, api and worker.
#
# Base images are fully qualified references, so no builder's default registry decides
# what is pulled, and this file names no registry host: REGISTRY (no default) is the
# registry or mirror that serves Docker Hub's official images (library/...), with its
# path prefix if any (docs/operations.md, "Building the image"). ${REGISTRY:?} stops
# the build at once when it is unset, rather than fall back to a default registry.
ARG REGISTRY

FROM ${REGISTRY:?}/library/golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# REVISION (optional) is the git revision `photogen version` prints: .git is not in the
# build context (.dockerignore), so Go's own VCS stamping has nothing to record.
ARG REVISION
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.revision=${REVISION}" -o /photogen ./cmd/photogen
# scratch has no mkdir: the photo directory is made here and copied with its owner.
RUN mkdir -p /out/photos

# A static binary needs nothing but CA certificates (for Replicate, Stripe and S3).
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /photogen /photogen
# STORAGE_DIR in compose.yaml; a new named volume mounted here takes this owner.
COPY --from=build --chown=65532:65532 /out/photos /data/photos
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/photogen"]
