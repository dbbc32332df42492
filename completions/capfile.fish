# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_capfile_global_optspecs
    string join \n p/profile= config= q/quiet v/verbose color= h/help V/version
end

function __fish_capfile_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_capfile_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_capfile_using_subcommand
    set -l cmd (__fish_capfile_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c capfile -n "__fish_capfile_needs_command" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_needs_command" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_needs_command" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_needs_command" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_needs_command" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_needs_command" -s V -l version -d 'Print version'
complete -c capfile -n "__fish_capfile_needs_command" -f -a "upload" -d 'Upload images to the file service'
complete -c capfile -n "__fish_capfile_needs_command" -f -a "login" -d 'Save credentials for a profile (secret in the OS keyring)'
complete -c capfile -n "__fish_capfile_needs_command" -f -a "logout" -d 'Remove the profile\'s saved secret (its settings stay)'
complete -c capfile -n "__fish_capfile_needs_command" -f -a "config" -d 'Read and edit settings'
complete -c capfile -n "__fish_capfile_needs_command" -f -a "serve" -d 'Run the local file service (an emulator of Capillary\'s)'
complete -c capfile -n "__fish_capfile_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c capfile -n "__fish_capfile_needs_command" -f -a "version" -d 'Print the version, the commit it was built from, the target and the TLS backend'
complete -c capfile -n "__fish_capfile_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l files-from -d 'Also upload the files listed in FILE, one per line (`-`: standard input)' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l name -d 'Remote file name, for a single input (default: the file\'s base name)' -r
complete -c capfile -n "__fish_capfile_using_subcommand upload" -s n -l namespace -d 'Namespace to upload into [env: CAPFILE_NAMESPACE] [default: rewards]' -r
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l base-url -d 'Base URL of the Capillary API host, e.g. https://eu.api.capillarytech.com [env: CAPFILE_BASE_URL]' -r -f
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l body -d 'How the image is sent: a multipart part named `file`, or the raw bytes' -r -f -a "multipart\t'multipart/form-data with one part named `file`'
raw\t'The image bytes as the body, with the image MIME type as Content-Type'"
complete -c capfile -n "__fish_capfile_using_subcommand upload" -s j -l jobs -d 'Number of uploads in flight at once [default: 4]' -r
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l retries -d 'Retries for connection errors, timeouts, 408 and 5xx; a 429 waits for the rate limit instead (see --max-rate-wait) [default: 3]' -r
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l timeout -d 'Fail a request that makes no progress for this many seconds [default: 60]' -r
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l rate -d 'Send at most N requests per PERIOD, e.g. 100/min or 10/2s: set it to the org\'s rate limit and the service never has to answer 429 [env: CAPFILE_RATE]' -r
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l max-rate-wait -d 'Seconds one upload may wait in all for rate limits (429s) before it fails; 429s do not use up --retries [default: 300]' -r
complete -c capfile -n "__fish_capfile_using_subcommand upload" -s o -l output -d 'Output format on standard output [default: table]' -r -f -a "table\t'name, version and secure URL (tab-separated when not a terminal)'
json\t'The server\'s response body, unchanged (one document per line when piped)'
url\t'The secure URL alone, one per line'"
complete -c capfile -n "__fish_capfile_using_subcommand upload" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand upload" -s 0 -l null -d 'The --files-from list is NUL-separated, as `find -print0` writes it'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l name-from-path -d 'Name each file after its path, joined with `_`: en/banner.png -> en_banner.png (with -r, the path below the directory given)'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l placeholder -d 'Create placeholders: each FILE is a remote name, and no body is sent'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -s r -l recursive -d 'Upload the image files inside directories, in sorted order'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l allow-any-type -d 'Send files that are not recognised as images'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l dry-run -d 'Check inputs and credentials and show what would be sent; send nothing'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l json -d 'Print the server\'s JSON response (same as -o json)'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l no-progress -d 'Do not show progress bars or per-file progress lines'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -l local -d 'Upload to the local file service at 127.0.0.1:7878, starting it if needed'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand upload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand login" -l base-url -d 'Base URL of the Capillary API host (https, or http to a loopback host)' -r -f
complete -c capfile -n "__fish_capfile_using_subcommand login" -l auth -d 'Authentication kind' -r -f -a "basic\t'Till username and the MD5 of its password'
oauth\t'API client key and secret, exchanged for a token'"
complete -c capfile -n "__fish_capfile_using_subcommand login" -l username -d 'Till username (basic auth)' -r
complete -c capfile -n "__fish_capfile_using_subcommand login" -l client-key -d 'API client key (OAuth)' -r
complete -c capfile -n "__fish_capfile_using_subcommand login" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand login" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand login" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand login" -l password-stdin -d 'Read the password from standard input (basic auth)'
complete -c capfile -n "__fish_capfile_using_subcommand login" -l client-secret-stdin -d 'Read the client secret from standard input (OAuth)'
complete -c capfile -n "__fish_capfile_using_subcommand login" -l insecure-storage -d 'Store the secret in credentials.toml (mode 0600) instead of the OS keyring'
complete -c capfile -n "__fish_capfile_using_subcommand login" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand login" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand logout" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand logout" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand logout" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand logout" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand logout" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -f -a "list" -d 'Show every effective setting and where it came from'
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -f -a "get" -d 'Print the effective value of one setting'
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -f -a "set" -d 'Set a value in the selected profile'
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -f -a "unset" -d 'Remove a value from the selected profile'
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -f -a "profiles" -d 'List the profiles in the config file (on a terminal, `*` marks the active one)'
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -f -a "delete-profile" -d 'Delete a profile: its settings in the config file and its saved secret'
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -f -a "path" -d 'Print the config file\'s path'
complete -c capfile -n "__fish_capfile_using_subcommand config; and not __fish_seen_subcommand_from list get set unset profiles delete-profile path help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from list" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from list" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from list" -l json -d 'Print as JSON'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from get" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from get" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from get" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from set" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from set" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from set" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from set" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from unset" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from unset" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from unset" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from unset" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from unset" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from profiles" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from profiles" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from profiles" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from profiles" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from profiles" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from profiles" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from delete-profile" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from delete-profile" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from delete-profile" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from delete-profile" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from delete-profile" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from delete-profile" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from path" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from path" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from path" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from path" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from path" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show every effective setting and where it came from'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print the effective value of one setting'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set a value in the selected profile'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "unset" -d 'Remove a value from the selected profile'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "profiles" -d 'List the profiles in the config file (on a terminal, `*` marks the active one)'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "delete-profile" -d 'Delete a profile: its settings in the config file and its saved secret'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the config file\'s path'
complete -c capfile -n "__fish_capfile_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l addr -d 'Address to listen on (port 0 picks a free port); loopback only, unless --public' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l data -d 'Directory for stored files and versions [default: the platform data dir]' -r -f -a "(__fish_complete_directories)"
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l username -d 'Basic-auth username the service accepts' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l client-key -d 'OAuth client key the token endpoint accepts' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l token-ttl -d 'Lifetime of OAuth tokens, in seconds' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l url-ttl -d 'Lifetime of secure file URLs, in seconds' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l public-url -d 'Base of the secure URLs it hands out [default: http://ADDR]' -r -f
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l fail-rate -d 'Share of uploads answered with --fail-status (0 to 1), for rehearsing retries' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l fail-status -d 'Status of injected failures' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l retry-after -d 'Send Retry-After with injected failures, in seconds' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l latency-ms -d 'Added latency per request, in milliseconds' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l drop-rate -d 'Share of uploads whose connection is dropped mid-body (0 to 1)' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l rate-limit -d 'Accept at most N uploads per credential in any rolling PERIOD (e.g. 100/min or 10/2s); answer the others 429' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l public -d 'Allow an --addr that is not loopback: anyone who can reach it can then upload with the default, publicly known credentials'
complete -c capfile -n "__fish_capfile_using_subcommand serve" -l rate-limit-retry-after -d 'Send Retry-After with the 429s of --rate-limit (Capillary sends none)'
complete -c capfile -n "__fish_capfile_using_subcommand serve" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand serve" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand completions" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand completions" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand completions" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand completions" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand completions" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand version" -s p -l profile -d 'Profile to use from the config file [default: default]' -r
complete -c capfile -n "__fish_capfile_using_subcommand version" -l config -d 'Config file to read and edit instead of the default location' -r -F
complete -c capfile -n "__fish_capfile_using_subcommand version" -l color -d 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)' -r -f -a "auto\t'Colour when standard error is a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c capfile -n "__fish_capfile_using_subcommand version" -s q -l quiet -d 'Print results only: no progress, no summary, no notes'
complete -c capfile -n "__fish_capfile_using_subcommand version" -s v -l verbose -d 'Say more about what is happening (repeat for more)'
complete -c capfile -n "__fish_capfile_using_subcommand version" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c capfile -n "__fish_capfile_using_subcommand help; and not __fish_seen_subcommand_from upload login logout config serve completions version help" -f -a "upload" -d 'Upload images to the file service'
complete -c capfile -n "__fish_capfile_using_subcommand help; and not __fish_seen_subcommand_from upload login logout config serve completions version help" -f -a "login" -d 'Save credentials for a profile (secret in the OS keyring)'
complete -c capfile -n "__fish_capfile_using_subcommand help; and not __fish_seen_subcommand_from upload login logout config serve completions version help" -f -a "logout" -d 'Remove the profile\'s saved secret (its settings stay)'
complete -c capfile -n "__fish_capfile_using_subcommand help; and not __fish_seen_subcommand_from upload login logout config serve completions version help" -f -a "config" -d 'Read and edit settings'
complete -c capfile -n "__fish_capfile_using_subcommand help; and not __fish_seen_subcommand_from upload login logout config serve completions version help" -f -a "serve" -d 'Run the local file service (an emulator of Capillary\'s)'
complete -c capfile -n "__fish_capfile_using_subcommand help; and not __fish_seen_subcommand_from upload login logout config serve completions version help" -f -a "completions" -d 'Print a shell completion script'
complete -c capfile -n "__fish_capfile_using_subcommand help; and not __fish_seen_subcommand_from upload login logout config serve completions version help" -f -a "version" -d 'Print the version, the commit it was built from, the target and the TLS backend'
complete -c capfile -n "__fish_capfile_using_subcommand help; and not __fish_seen_subcommand_from upload login logout config serve completions version help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c capfile -n "__fish_capfile_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "list" -d 'Show every effective setting and where it came from'
complete -c capfile -n "__fish_capfile_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "get" -d 'Print the effective value of one setting'
complete -c capfile -n "__fish_capfile_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set" -d 'Set a value in the selected profile'
complete -c capfile -n "__fish_capfile_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "unset" -d 'Remove a value from the selected profile'
complete -c capfile -n "__fish_capfile_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "profiles" -d 'List the profiles in the config file (on a terminal, `*` marks the active one)'
complete -c capfile -n "__fish_capfile_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "delete-profile" -d 'Delete a profile: its settings in the config file and its saved secret'
complete -c capfile -n "__fish_capfile_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print the config file\'s path'
