# otapub serve as a container: docker build -t otapub . && docker run -p 8080:8080 otapub serve --repo owner/name
# Build stage: modules first, so source edits reuse the download layer.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.buildVersion=${VERSION}" -o /otapub ./cmd/otapub

# Runtime: no shell, no package manager, CA certificates, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /otapub /otapub
USER nonroot:nonroot
EXPOSE 8080
ENV PORT=8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s CMD ["/otapub", "healthcheck"]
ENTRYPOINT ["/otapub"]
CMD ["serve"]
