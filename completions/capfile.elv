
use builtin;
use str;

set edit:completion:arg-completer[capfile] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'capfile'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'capfile'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand upload 'Upload images to the file service'
            cand login 'Save credentials for a profile (secret in the OS keyring)'
            cand logout 'Remove the profile''s saved secret (its settings stay)'
            cand config 'Read and edit settings'
            cand serve 'Run the local file service (an emulator of Capillary''s)'
            cand completions 'Print a shell completion script'
            cand version 'Print the version, the commit it was built from, the target and the TLS backend'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'capfile;upload'= {
            cand --files-from 'Also upload the files listed in FILE, one per line (`-`: standard input)'
            cand --name 'Remote file name, for a single input (default: the file''s base name)'
            cand -n 'Namespace to upload into [env: CAPFILE_NAMESPACE] [default: rewards]'
            cand --namespace 'Namespace to upload into [env: CAPFILE_NAMESPACE] [default: rewards]'
            cand --base-url 'Base URL of the Capillary API host, e.g. https://eu.api.capillarytech.com [env: CAPFILE_BASE_URL]'
            cand --body 'How the image is sent: a multipart part named `file`, or the raw bytes'
            cand -j 'Number of uploads in flight at once [default: 4]'
            cand --jobs 'Number of uploads in flight at once [default: 4]'
            cand --retries 'Retries for connection errors, timeouts, 408 and 5xx; a 429 waits for the rate limit instead (see --max-rate-wait) [default: 3]'
            cand --timeout 'Fail a request that makes no progress for this many seconds [default: 60]'
            cand --rate 'Send at most N requests per PERIOD, e.g. 100/min or 10/2s: set it to the org''s rate limit and the service never has to answer 429 [env: CAPFILE_RATE]'
            cand --max-rate-wait 'Seconds one upload may wait in all for rate limits (429s) before it fails; 429s do not use up --retries [default: 300]'
            cand -o 'Output format on standard output [default: table]'
            cand --output 'Output format on standard output [default: table]'
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -0 'The --files-from list is NUL-separated, as `find -print0` writes it'
            cand --null 'The --files-from list is NUL-separated, as `find -print0` writes it'
            cand --name-from-path 'Name each file after its path, joined with `_`: en/banner.png -> en_banner.png (with -r, the path below the directory given)'
            cand --placeholder 'Create placeholders: each FILE is a remote name, and no body is sent'
            cand -r 'Upload the image files inside directories, in sorted order'
            cand --recursive 'Upload the image files inside directories, in sorted order'
            cand --allow-any-type 'Send files that are not recognised as images'
            cand --dry-run 'Check inputs and credentials and show what would be sent; send nothing'
            cand --json 'Print the server''s JSON response (same as -o json)'
            cand --no-progress 'Do not show progress bars or per-file progress lines'
            cand --local 'Upload to the local file service at 127.0.0.1:7878, starting it if needed'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;login'= {
            cand --base-url 'Base URL of the Capillary API host (https, or http to a loopback host)'
            cand --auth 'Authentication kind'
            cand --username 'Till username (basic auth)'
            cand --client-key 'API client key (OAuth)'
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand --password-stdin 'Read the password from standard input (basic auth)'
            cand --client-secret-stdin 'Read the client secret from standard input (OAuth)'
            cand --insecure-storage 'Store the secret in credentials.toml (mode 0600) instead of the OS keyring'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;logout'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;config'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand list 'Show every effective setting and where it came from'
            cand get 'Print the effective value of one setting'
            cand set 'Set a value in the selected profile'
            cand unset 'Remove a value from the selected profile'
            cand profiles 'List the profiles in the config file (on a terminal, `*` marks the active one)'
            cand delete-profile 'Delete a profile: its settings in the config file and its saved secret'
            cand path 'Print the config file''s path'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'capfile;config;list'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand --json 'Print as JSON'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;config;get'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;config;set'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;config;unset'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;config;profiles'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;config;delete-profile'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;config;path'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;config;help'= {
            cand list 'Show every effective setting and where it came from'
            cand get 'Print the effective value of one setting'
            cand set 'Set a value in the selected profile'
            cand unset 'Remove a value from the selected profile'
            cand profiles 'List the profiles in the config file (on a terminal, `*` marks the active one)'
            cand delete-profile 'Delete a profile: its settings in the config file and its saved secret'
            cand path 'Print the config file''s path'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'capfile;config;help;list'= {
        }
        &'capfile;config;help;get'= {
        }
        &'capfile;config;help;set'= {
        }
        &'capfile;config;help;unset'= {
        }
        &'capfile;config;help;profiles'= {
        }
        &'capfile;config;help;delete-profile'= {
        }
        &'capfile;config;help;path'= {
        }
        &'capfile;config;help;help'= {
        }
        &'capfile;serve'= {
            cand --addr 'Address to listen on (port 0 picks a free port); loopback only, unless --public'
            cand --data 'Directory for stored files and versions [default: the platform data dir]'
            cand --username 'Basic-auth username the service accepts'
            cand --client-key 'OAuth client key the token endpoint accepts'
            cand --token-ttl 'Lifetime of OAuth tokens, in seconds'
            cand --url-ttl 'Lifetime of secure file URLs, in seconds'
            cand --public-url 'Base of the secure URLs it hands out [default: http://ADDR]'
            cand --fail-rate 'Share of uploads answered with --fail-status (0 to 1), for rehearsing retries'
            cand --fail-status 'Status of injected failures'
            cand --retry-after 'Send Retry-After with injected failures, in seconds'
            cand --latency-ms 'Added latency per request, in milliseconds'
            cand --drop-rate 'Share of uploads whose connection is dropped mid-body (0 to 1)'
            cand --rate-limit 'Accept at most N uploads per credential in any rolling PERIOD (e.g. 100/min or 10/2s); answer the others 429'
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand --public 'Allow an --addr that is not loopback: anyone who can reach it can then upload with the default, publicly known credentials'
            cand --rate-limit-retry-after 'Send Retry-After with the 429s of --rate-limit (Capillary sends none)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;completions'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;version'= {
            cand -p 'Profile to use from the config file [default: default]'
            cand --profile 'Profile to use from the config file [default: default]'
            cand --config 'Config file to read and edit instead of the default location'
            cand --color 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)'
            cand -q 'Print results only: no progress, no summary, no notes'
            cand --quiet 'Print results only: no progress, no summary, no notes'
            cand -v 'Say more about what is happening (repeat for more)'
            cand --verbose 'Say more about what is happening (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'capfile;help'= {
            cand upload 'Upload images to the file service'
            cand login 'Save credentials for a profile (secret in the OS keyring)'
            cand logout 'Remove the profile''s saved secret (its settings stay)'
            cand config 'Read and edit settings'
            cand serve 'Run the local file service (an emulator of Capillary''s)'
            cand completions 'Print a shell completion script'
            cand version 'Print the version, the commit it was built from, the target and the TLS backend'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'capfile;help;upload'= {
        }
        &'capfile;help;login'= {
        }
        &'capfile;help;logout'= {
        }
        &'capfile;help;config'= {
            cand list 'Show every effective setting and where it came from'
            cand get 'Print the effective value of one setting'
            cand set 'Set a value in the selected profile'
            cand unset 'Remove a value from the selected profile'
            cand profiles 'List the profiles in the config file (on a terminal, `*` marks the active one)'
            cand delete-profile 'Delete a profile: its settings in the config file and its saved secret'
            cand path 'Print the config file''s path'
        }
        &'capfile;help;config;list'= {
        }
        &'capfile;help;config;get'= {
        }
        &'capfile;help;config;set'= {
        }
        &'capfile;help;config;unset'= {
        }
        &'capfile;help;config;profiles'= {
        }
        &'capfile;help;config;delete-profile'= {
        }
        &'capfile;help;config;path'= {
        }
        &'capfile;help;serve'= {
        }
        &'capfile;help;completions'= {
        }
        &'capfile;help;version'= {
        }
        &'capfile;help;help'= {
        }
    ]
    $completions[$command]
}
