# Build: docker build -t photogen .   Run: see compose.yaml.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /photogen ./cmd/photogen

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /photogen /photogen
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/photogen"]
