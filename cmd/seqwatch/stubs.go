package main

import (
	"context"
	"errors"
)

func runDemo(ctx context.Context, args []string, e env) error   { return errors.New("not yet") }
func runDaemon(ctx context.Context, args []string, e env) error { return errors.New("not yet") }
func runNotify(ctx context.Context, args []string, e env) error { return errors.New("not yet") }
func runValidate(args []string, e env) int                      { return 1 }
