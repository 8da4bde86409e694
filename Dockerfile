# Build: docker build -t photogen .   Run: see compose.yaml.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /photogen ./cmd/photogen

# A static binary needs nothing but CA certificates (for Replicate, Stripe and S3).
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /photogen /photogen
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/photogen"]
