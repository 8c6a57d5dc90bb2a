package config

// Selected are the applications a command's --name picks: every one
// when name is "", else the one of that name (an error when there is
// none).
func (c *Config) Selected(name string) ([]*App, error) {
	if name == "" {
		return c.Applications(), nil
	}
	ac, err := c.Application(name)
	if err != nil {
		return nil, err
	}
	return []*App{ac}, nil
}
