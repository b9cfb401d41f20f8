module llm-gateway/clients/go

go 1.19

// Versions Debian 12 ships (golang-google-grpc-dev, golang-google-protobuf-dev, golang-google-genproto-dev).
// The tests build in GOPATH mode against /usr/share/gocode, offline; with the module proxy, `go mod tidy`.
require (
	google.golang.org/genproto v0.0.0-20221024183307-1bc688fe9f3e
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
