package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/seqwatch/seqwatch/internal/text"
)

// MaxSecretFileSize is the largest *_file secret read.
const MaxSecretFileSize = 64 << 10

// errTooLarge and errNotRegular say why a file was not read.
var (
	errTooLarge   = errors.New("too large")
	errNotRegular = errors.New("not a regular file")
)

// readFile reads at most limit bytes of path, and fails with errTooLarge
// when there is more. It is opened without blocking, so that a FIFO with
// no writer cannot hold it; with regularOnly anything but a regular file
// (a FIFO, a device such as /dev/zero, a directory) is errNotRegular. The
// read ends with ctx (the command's deadline, or a signal to stop), even
// one the file system does not answer.
func readFile(ctx context.Context, path string, limit int64, regularOnly bool) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if regularOnly && !st.Mode().IsRegular() {
		f.Close()
		return nil, errNotRegular
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = f.SetReadDeadline(deadline) // a pipe's read waits only so long; a regular file's cannot be told
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, limit+1))
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			if errors.Is(r.err, os.ErrDeadlineExceeded) {
				return nil, context.DeadlineExceeded
			}
			return nil, r.err
		}
		if int64(len(r.data)) > limit {
			return nil, errTooLarge
		}
		return r.data, nil
	case <-ctx.Done():
		// The reading goroutine closes the file when its read returns.
		return nil, ctx.Err()
	}
}

// fileError says why path could not be read, for a person: what the file
// is, never what it holds.
func fileError(path string, err error, limitWords string) error {
	switch {
	case errors.Is(err, errNotRegular):
		return fmt.Errorf("%s is not a regular file (a pipe, a device or a directory): give the path of a file that holds the value", path)
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("%s is larger than %s, the most seqwatch reads of it: is it the right file?", path, limitWords)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("reading %s did not finish in time (the command's deadline)", path)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("reading %s was stopped: seqwatch was told to stop", path)
	}
	return fmt.Errorf("cannot read %s: %w", path, text.PlainFSError(err))
}
