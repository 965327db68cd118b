# The offpay ledger. Build: docker build -t offpay .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /offpay ./cmd/offpay && mkdir /data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /offpay /offpay
# The volume must belong to the nonroot user (65532) that runs the ledger.
COPY --from=build --chown=65532:65532 /data /data
VOLUME /data
EXPOSE 8420
ENTRYPOINT ["/offpay"]
CMD ["ledger", "serve", "--data", "/data", "--listen", "0.0.0.0:8420", "--tls-self-signed"]
