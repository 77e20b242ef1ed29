import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ModelServerMonitoringOptions } from './monitoring-options.interface';

/** @internal */
export const {
  ConfigurableModuleClass: MonitoringModuleClass,
  MODULE_OPTIONS_TOKEN: MONITORING_MODULE_OPTIONS,
  OPTIONS_TYPE: MONITORING_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MONITORING_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ModelServerMonitoringOptions>().setClassMethodName('forRoot').build();
