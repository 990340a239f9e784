// What Fluent Bit 4.2 accepts, for the structural checks of generated configs. Fluent Bit refuses to
// start on an unknown property ("unknown configuration property ... The following properties are
// allowed"), but `--dry-run` does not notice, so the tests check every key against these tables.
// Sources (fluent/fluent-bit v4.2.8): the `config_map[]` of each plugin, the generic properties in
// src/flb_input.c / flb_filter.c / flb_output.c, `service_configs[]` in src/flb_config.c, and the
// keys read by src/flb_parser.c. Keys are case-insensitive to Fluent Bit; listed lower-case.

const INPUT_COMMON = [
  'name', 'tag', 'log_level', 'log_suppress_interval', 'routable', 'alias', 'mem_buf_limit', 'listen', 'host', 'port', 'ipv6',
  'tls', 'tls.verify', 'tls.verify_hostname', 'tls.debug', 'tls.vhost', 'tls.ca_path', 'tls.ca_file', 'tls.crt_file', 'tls.key_file',
  'tls.key_passwd', 'tls.min_version', 'tls.max_version', 'tls.ciphers', 'storage.type', 'storage.pause_on_chunks_overlimit',
  'threaded', 'thread.ring_buffer.capacity', 'thread.ring_buffer.window',
];
const FILTER_COMMON = ['name', 'match', 'match_regex', 'alias', 'log_level', 'log_suppress_interval'];
const OUTPUT_COMMON = [
  'name', 'match', 'match_regex', 'alias', 'log_level', 'log_suppress_interval', 'retry_limit', 'host', 'port', 'ipv6', 'workers',
  'storage.total_limit_size', 'tls', 'tls.verify', 'tls.verify_hostname', 'tls.debug', 'tls.vhost', 'tls.ca_path', 'tls.ca_file',
  'tls.crt_file', 'tls.key_file', 'tls.key_passwd', 'tls.min_version', 'tls.max_version', 'tls.ciphers',
];

const INPUTS: Record<string, string[]> = {
  tail: [
    'path', 'exclude_path', 'key', 'read_from_head', 'read_newly_discovered_files_from_head', 'refresh_interval', 'watcher_interval',
    'progress_check_interval', 'progress_check_interval_nsec', 'rotate_wait', 'docker_mode', 'docker_mode_flush', 'docker_mode_parser',
    'path_key', 'offset_key', 'ignore_older', 'ignore_active_older_files', 'buffer_chunk_size', 'buffer_max_size', 'static_batch_size',
    'event_batch_size', 'skip_long_lines', 'exit_on_eof', 'skip_empty_lines', 'truncate_long_lines', 'file_cache_advise',
    'inotify_watcher', 'parser', 'tag_regex', 'db', 'db.sync', 'db.locking', 'db.journal_mode', 'db.compare_filename', 'multiline',
    'multiline_flush', 'parser_firstline', 'multiline.parser', 'unicode.encoding', 'generic.encoding',
  ],
  forward: ['tag_prefix', 'shared_key', 'self_hostname', 'security.users', 'unix_path', 'unix_perm', 'buffer_chunk_size', 'buffer_max_size', 'empty_shared_key'],
  systemd: ['path', 'max_fields', 'max_entries', 'systemd_filter_type', 'systemd_filter', 'read_from_tail', 'lowercase', 'strip_underscores', 'db.sync', 'db'],
};

const FILTERS: Record<string, string[]> = {
  parser: ['key_name', 'parser', 'preserve_key', 'reserve_data', 'unescape_key'],
  multiline: ['debug_flush', 'buffer', 'mode', 'flush_ms', 'multiline.parser', 'multiline.key_content', 'emitter_name', 'emitter_storage.type', 'emitter_mem_buf_limit'],
  rewrite_tag: ['rule', 'emitter_name', 'emitter_storage.type', 'emitter_mem_buf_limit'],
  modify: ['set', 'add', 'remove', 'remove_wildcard', 'remove_regex', 'move_to_start', 'move_to_end', 'rename', 'hard_rename', 'copy', 'hard_copy', 'condition'],
  kubernetes: [
    'buffer_size', 'tls.debug', 'tls.verify', 'tls.vhost', 'tls.verify_hostname', 'merge_log', 'merge_parser', 'merge_log_key',
    'merge_log_trim', 'keep_log', 'kube_url', 'kube_meta_preload_cache_dir', 'kube_ca_file', 'kube_ca_path', 'kube_tag_prefix',
    'kube_token_file', 'kube_token_command', 'labels', 'annotations', 'owner_references', 'namespace_labels', 'namespace_annotations',
    'namespace_metadata_only', 'k8s-logging.parser', 'k8s-logging.exclude', 'use_journal', 'regex_parser', 'dummy_meta', 'dns_retries',
    'dns_wait_time', 'cache_use_docker_id', 'use_tag_for_meta', 'use_kubelet', 'kubelet_host', 'kubelet_port', 'kube_token_ttl',
    'kube_meta_cache_ttl', 'kube_meta_namespace_cache_ttl', 'set_platform',
  ],
};

const OUTPUTS: Record<string, string[]> = {
  forward: [
    'time_as_integer', 'retain_metadata_in_forward_mode', 'shared_key', 'self_hostname', 'empty_shared_key', 'send_options',
    'require_ack_response', 'username', 'password', 'unix_path', 'upstream', 'tag', 'compress', 'fluentd_compat',
  ],
  loki: [
    'uri', 'tenant_id', 'tenant_id_key', 'labels', 'structured_metadata', 'structured_metadata_map_keys', 'auto_kubernetes_labels',
    'drop_single_key', 'label_keys', 'remove_keys', 'line_format', 'label_map_path', 'http_user', 'http_passwd', 'buffer_size',
    'bearer_token', 'compress',
  ],
  opensearch: [
    'index', 'type', 'suppress_type_name', 'http_user', 'http_passwd', 'aws_auth', 'aws_region', 'aws_profile', 'aws_sts_endpoint',
    'aws_role_arn', 'aws_external_id', 'aws_service_name', 'logstash_format', 'logstash_prefix', 'logstash_prefix_separator',
    'logstash_prefix_key', 'logstash_dateformat', 'time_key', 'time_key_format', 'time_key_nanos', 'include_tag_key', 'tag_key',
    'buffer_size', 'path', 'pipeline', 'generate_id', 'write_operation', 'id_key', 'replace_dots', 'current_time_index', 'trace_output',
    'trace_error', 'compress',
  ],
  stdout: ['format', 'json_date_format', 'json_date_key'],
};

export const SERVICE_KEYS = new Set([
  'flush', 'grace', 'json.convert_nan_to_null', 'daemon', 'log_file', 'parsers_file', 'plugins_file', 'log_level', 'http_server',
  'http_listen', 'http_port', 'health_check', 'hc_errors_count', 'hc_retry_failure_count', 'hc_period', 'dns.mode', 'dns.resolver',
  'dns.prefer_ipv4', 'dns.prefer_ipv6', 'storage.path', 'storage.sync', 'storage.metrics', 'storage.checksum',
  'storage.backlog.mem_limit', 'storage.backlog.flush_on_shutdown', 'storage.max_chunks_up', 'storage.delete_irrecoverable_chunks',
  'storage.trim_files', 'storage.type', 'storage.inherit', 'storage.keep.rejected', 'storage.rejected.path', 'coro_stack_size',
  'multiline_buffer_limit', 'scheduler.cap', 'scheduler.base', 'json.escape_unicode', 'streams_file', 'sp.convert_from_str_to_num',
  'enable_chunk_trace', 'hot_reload', 'hot_reload.ensure_thread_safety', 'hot_reload.timeout',
]);

export const PARSER_KEYS = new Set([
  'name', 'format', 'regex', 'time_key', 'time_format', 'time_keep', 'time_strict', 'time_offset', 'time_system_timezone', 'time_zone',
  'types', 'decode_field', 'decode_field_as', 'skip_empty_values', 'logfmt_no_bare_keys',
]);

/** `rule` in classic mode, `rules` (a list of state/regex/next_state) in YAML. */
export const MULTILINE_PARSER_KEYS = new Set(['name', 'type', 'parser', 'key_content', 'key_pattern', 'key_group', 'match_string', 'negate', 'flush_timeout', 'rule', 'rules']);

export type PluginKind = 'input' | 'filter' | 'output';

const TABLES: Record<PluginKind, [string[], Record<string, string[]>]> = {
  input: [INPUT_COMMON, INPUTS],
  filter: [FILTER_COMMON, FILTERS],
  output: [OUTPUT_COMMON, OUTPUTS],
};

/** The keys a plugin accepts, or undefined for a plugin this table does not know. */
export function allowedKeys(kind: PluginKind, plugin: string): Set<string> | undefined {
  const [common, specific] = TABLES[kind];
  const own = specific[plugin.toLowerCase()];
  return own ? new Set([...common, ...own]) : undefined;
}

/** `<plugin>.<key>` that may be given several times (FLB_CONFIG_MAP_MULT in the config map). */
export const REPEATABLE = new Set([
  'systemd.systemd_filter', 'parser.parser', 'rewrite_tag.rule', 'tail.multiline.parser', 'multiline.multiline.parser',
  ...['set', 'add', 'remove', 'remove_wildcard', 'remove_regex', 'move_to_start', 'move_to_end', 'rename', 'hard_rename', 'copy', 'hard_copy', 'condition'].map((k) => `modify.${k}`),
]);
