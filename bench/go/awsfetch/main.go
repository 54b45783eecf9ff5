// The reference peer for latchkey's aws-sm:// source (bench/run aws-start): what chamber and
// secrets-init do, with aws-sdk-go-v2: load the default config (the whole credential chain),
// then GetSecretValue for each secret, one by one, and exec nothing. Each argument is
// NAME=SECRET_ID; the values are counted, never printed. Built at bench time into .cache/.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "awsfetch: config:", err)
		os.Exit(2)
	}
	client := secretsmanager.NewFromConfig(cfg)
	n := 0
	for _, arg := range os.Args[1:] {
		name, id, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintln(os.Stderr, "awsfetch: want NAME=SECRET_ID, got", arg)
			os.Exit(2)
		}
		out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			fmt.Fprintln(os.Stderr, "awsfetch:", name, err)
			os.Exit(1)
		}
		if out.SecretString != nil {
			n++
		}
	}
	if n != len(os.Args)-1 {
		os.Exit(1)
	}
}
