module github.com/memberly/memberly

go 1.26

require (
	github.com/google/go-cmp v0.7.0
	go.yaml.in/yaml/v3 v3.0.6
	pgregory.net/rapid v1.3.0
)

require github.com/pkg/errors v0.9.1

require golang.org/x/sys v0.41.0
