
set edit:completion:arg-completer[capfile] = { |@words|
    var index = (count $words)
    set index = (- $index 1)

    put (env _CLAP_IFS="\n" _CLAP_COMPLETE_INDEX=(to-string $index) CAPFILE_COMPLETE="elvish" capfile -- $@words) | to-lines
}

