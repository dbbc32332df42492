complete --keep-order --exclusive --command capfile --arguments "(CAPFILE_COMPLETE=fish capfile -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
