module oms

go 1.19

require (
	github.com/golang/protobuf v1.5.4
	google.golang.org/grpc v1.33.3
)
